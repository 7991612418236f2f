"""Train an MLP on scikit-learn's bundled 8x8 digits with Adam and warm-up; print test accuracy.

Run: .venv/bin/python examples/train_digits.py   (a few seconds; test accuracy 0.98 with seed 0)
"""

import gradstep as gs
from gradstep import nn, optim
from gradstep.data import datasets

gs.manual_seed(0)
data = datasets.load("digits")
model = nn.Sequential(
    nn.Linear(data.n_features, 256), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(128, data.n_classes),
)  # fmt: skip
opt = optim.Adam(model.parameters(), lr=2e-3)
sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=50)
trainer = gs.Trainer(model, nn.CrossEntropyLoss(label_smoothing=0.1), opt, scheduler=sched)
trainer.fit(data.train, epochs=40, batch_size=32, val=data.val, verbose=2)
print(f"test accuracy: {trainer.evaluate(data.test)['accuracy']:.4f}")
