"""Train an MLP on scikit-learn's bundled 8x8 digits with Adam and warm-up; print test accuracy.

Run: .venv/bin/python examples/train_digits.py   (about 3 seconds; reaches about 97-98% test accuracy)
"""

import gradstep as gs
from gradstep import nn, optim
from gradstep.data import datasets

gs.manual_seed(0)
data = datasets.load("digits")
model = nn.Sequential(
    nn.Linear(data.n_features, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
    nn.Linear(64, data.n_classes),
)
opt = optim.Adam(model.parameters(), lr=3e-3)
sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=100)
trainer = gs.Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)
trainer.fit(data.train, epochs=30, batch_size=32, val=data.val, verbose=2)
print(f"test accuracy: {trainer.evaluate(data.test)['accuracy']:.4f}")
