"""Which scripts let MXNet use every core: those with the machine to themselves (inference,
training from a RecordIO file), not training beside its captcha workers."""
import os
import subprocess
import sys

from conftest import REPO

EVERY_CORE = str(len(os.sched_getaffinity(0)))


def omp_threads_after_importing(module, *argv, **env):
    """OMP_NUM_THREADS once `module` is imported with command line `argv`, in a fresh
    interpreter whose environment has no OMP_NUM_THREADS unless `env` gives one."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ('OMP_NUM_THREADS', 'DMLC_ROLE')}
    code = f"import os, {module}; print(os.environ.get('OMP_NUM_THREADS'))"
    result = subprocess.run([sys.executable, '-c', code, *argv], cwd=REPO, text=True,
                            capture_output=True, env={**environment, **env}, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_inference_uses_every_core_unless_told_otherwise():
    assert omp_threads_after_importing('lstm_ocr_infer', 'sample.jpg') == EVERY_CORE
    assert omp_threads_after_importing('lstm_ocr_infer', OMP_NUM_THREADS='1') == '1'


def test_training_leaves_the_captcha_workers_a_core_but_not_from_a_file():
    assert omp_threads_after_importing('lstm_ocr_train', 'font/') == 'None'
    assert omp_threads_after_importing('lstm_ocr_train', '--train_rec', 'a.rec') == EVERY_CORE
    assert omp_threads_after_importing('lstm_ocr_train', '--train_rec=a.rec',
                                       DMLC_ROLE='worker') == 'None'
