"""A web process imports neither reportlab nor the Stripe library until it draws a document or
receives a Stripe event (each is ~15-20 MB of every process's memory otherwise)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import sys, wsgi
loaded = sorted({m.split('.')[0] for m in sys.modules} & {'reportlab', 'stripe'})
print(','.join(loaded))
from portal.documents import LabelData, label_pdf
assert label_pdf(LabelData('RMA-1', 'Post', 'T1', ['A'], ['B'])).startswith(b'%PDF')
print('reportlab' in sys.modules)
"""


def test_the_web_app_loads_reportlab_and_stripe_only_when_used(tmp_path):
    env = {"PORTAL_INSTANCE": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
           "SECRET_KEY": "imports", "PATH": "/usr/bin:/bin"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()  # fmt: skip
    assert out == ["True"], out  # nothing loaded at start; reportlab once a label is drawn
