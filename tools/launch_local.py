"""Run a distributed MXNet job on this machine: a scheduler, servers and workers on 127.0.0.1.

    python tools/launch_local.py -n 2 -s 1 -- python lstm_ocr_train.py --kv_store dist_sync font/

MXNet's parameter server (ps-lite) finds its peers through DMLC_* environment variables.
Every process runs the same command; `import mxnet` turns the scheduler and the servers
into their roles, and the workers run the command itself (here, training with
--kv_store dist_sync). When every worker has exited, or one fails, or on Ctrl-C, every
process is stopped; the exit code is the first failing worker's, or 0.

For several machines use MXNet's own tools/launch.py (ssh, mpi, ...).
"""
import os
import signal
import socket
import subprocess
import sys
import time

# run as `python tools/NAME.py`: the example's root holds the modules these scripts use
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import Parser, positive_int

SHUTDOWN_GRACE = 10  # seconds servers and scheduler get to leave after the workers


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def start(command, role, env, rank=None):
    role_env = dict(env, DMLC_ROLE=role)
    if rank is not None:
        role_env['DMLC_WORKER_ID'] = str(rank)  # informative; ps-lite assigns the rank
    # a session of its own, so stopping it stops its captcha workers too
    return subprocess.Popen(command, env=role_env, start_new_session=True,
                            stdin=subprocess.DEVNULL)


def stop(processes):
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.time() + SHUTDOWN_GRACE
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_workers(workers):
    """Block until every worker has exited, or one fails -> exit code (0 if all succeeded)."""
    while True:
        codes = [worker.poll() for worker in workers]
        failed = [code for code in codes if code not in (None, 0)]
        if failed:
            return failed[0]
        if all(code == 0 for code in codes):
            return 0
        time.sleep(0.2)


def main():
    parser = Parser(description="Run a distributed MXNet job (scheduler, servers, workers) on "
                                "this machine.")
    parser.add_argument('-n', '--num_workers', type=positive_int, default=2,
                        help="worker processes")
    parser.add_argument('-s', '--num_servers', type=positive_int, default=1,
                        help="parameter-server processes")
    parser.add_argument('command', nargs='+', help="the command every process runs, after --")
    args = parser.parse_args()

    env = dict(os.environ, DMLC_PS_ROOT_URI='127.0.0.1', DMLC_PS_ROOT_PORT=str(free_port()),
               DMLC_NODE_HOST='127.0.0.1',
               DMLC_NUM_WORKER=str(args.num_workers), DMLC_NUM_SERVER=str(args.num_servers))
    helpers, workers = [], []
    # SIGTERM is handled like Ctrl-C: the finally below stops every process
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        helpers.append(start(args.command, 'scheduler', env))
        helpers += [start(args.command, 'server', env) for _ in range(args.num_servers)]
        workers = [start(args.command, 'worker', env, rank) for rank in range(args.num_workers)]
        code = wait_for_workers(workers)
        if code == 0:
            for helper in helpers:  # they leave by themselves once the workers are done
                try:
                    helper.wait(timeout=SHUTDOWN_GRACE)
                except subprocess.TimeoutExpired:
                    break
    except KeyboardInterrupt:
        code = 130
    finally:
        stop(workers + helpers)
    if code != 0:
        print(f"error: a worker exited with code {code}; every process was stopped",
              file=sys.stderr)
    sys.exit(code)


if __name__ == '__main__':
    main()
