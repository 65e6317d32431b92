"""The ONNX and service benchmarks run, on a few images, and report what they find: no text
read differently by the two runtimes, no 5xx and no wrong answer under mixed or hostile load,
the service's memory bounded."""
import pytest

from conftest import run_script
from tools import bench

pytestmark = pytest.mark.slow

RSS_BOUND_MB = 500


def figures(output):
    """`name value unit` lines -> {name: value}."""
    return {line.split()[0]: float(line.split()[1]) for line in output.splitlines()}


@pytest.fixture(scope='module')
def fonts(font):
    return [font]


def test_onnx_parity_figures(fonts, capsys):
    bench.bench_onnx_parity(fonts, count=64)
    found = figures(capsys.readouterr().out)
    assert found['onnx_parity_images'] == 64
    assert found['onnx_parity_texts_differ'] == 0
    assert found['onnx_parity_max_probability_gap'] < 1e-4


def test_service_load_figures(fonts, capsys):
    bench.bench_service(fonts, count=30)
    found = figures(capsys.readouterr().out)
    for kind, clients_counts in (('', (1, 8, 32)), ('_mixed', (1, 8, 32)),
                                 ('_hostile', (8, 32))):
        for clients in clients_counts:
            name = f"serve{kind}_c{clients}"
            assert found[f"{name}_requests_per_s"] > 0
            assert found[f"{name}_p50_ms"] <= found[f"{name}_p99_ms"]
            assert found[f"{name}_5xx"] == 0 and found[f"{name}_wrong"] == 0, name
        assert found[f"serve{kind}_peak_rss_mb"] < RSS_BOUND_MB
    assert found['serve_alive_after_load'] == 1
    assert found['serve_rss_after_load_mb'] < RSS_BOUND_MB


@pytest.mark.parametrize('network', [[], ['--rnn', 'fused', '--conv_channels', '16,32']])
def test_network_speed_times_a_recipe_network(network):
    result = run_script('tools/network_speed.py', '--recipe', 'robust', '--batch_size', '4',
                        '--batches', '2', *network, timeout=300)
    assert result.returncode == 0, result.stderr
    rate, unit = result.stdout.split()[:2]
    assert float(rate) > 0 and unit == 'samples/s'
    assert '(recipe robust, 1 thread(s), batch 4)' in result.stdout


def test_network_speed_rejects_a_bad_setting():
    result = run_script('tools/network_speed.py', '--conv_stride', '3', timeout=60)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert result.stderr.startswith('error:')
