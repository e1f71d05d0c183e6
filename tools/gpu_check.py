"""The prepared GPU check (`tools/gpu-check`, `make gpu-check`): everything a GPU can show in a few minutes.

A GPU is lent rarely and briefly, on a machine with no internet. This script runs every check as its own
time-boxed child process (one hang cannot eat the lease), writes each result as it comes, and ends with
`gpu-report.md` (figure, value, goal) and `gpu-report.json` in the output folder. Exit status 1 if any step
failed. `--dry-run` runs the same steps at tiny sizes on the CPU, so the script is known to work before a GPU
ever runs it (the project's test command does that).

    python tools/gpu_check.py OUT_DIR [--dry-run] [--work DIR] [--only STEP ...]
"""
from __future__ import annotations
import argparse, ast, json, os, platform, shutil, signal, subprocess, sys, tempfile, time, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_IPS = 150 * 50_000 / 180          # 150 epochs of 50,000 images in 3 minutes: about 42,000 images/s
GOAL_AUG = 5.0                         # augmentation under 5% of a training step

# Sizes of each step: on a GPU, and tiny on the CPU (--dry-run).
SIZES = {'gpu': dict(n_train=50_000, n_test=10_000, widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2), epochs=2,
                     batch_size=512, resume_train=5_000, resume_widths=(32, 64, 128, 256), resume_batch=512,
                     resume_amp='fp16', bench_images=50_000, bench_steps=None, per_class=2, device='cuda', flags=('slow', 'cuda')),
         'cpu': dict(n_train=200, n_test=100, widths=(8, 16, 32, 64), blocks=(1, 1, 1, 1), epochs=2, batch_size=100,
                     resume_train=300, resume_widths=(8, 16, 32, 64), resume_batch=50,
                     resume_amp='off', bench_images=1_280, bench_steps=1,
                     per_class=1, device='cpu', flags=())}
# (name, seconds allowed): the order is the order of value, so a lease cut short still brings the main figures
STEPS = [('env', 60), ('train_reference', 150), ('train_fast', 240), ('bench_data', 90), ('bench_train', 240),
         ('bench_evaluate', 90), ('resume', 150), ('gradcam', 90), ('predictor', 60), ('notebooks', 240)]


# ---------------------------------------------------------------------------------------------- the steps
def _train_argv(s, data, out, **extra):
    "The command line of a training run on the synthetic set in `data` (CIFAR-sized on a GPU)."
    argv = ['--dataset', 'synthetic', '--data-dir', str(data), '--synthetic-train', str(s['n_train']),
            '--synthetic-test', str(s['n_test']), '--widths', *map(str, s['widths']), '--num-blocks', *map(str, s['blocks']),
            '--epochs', str(s['epochs']),
            '--batch-size', str(s['batch_size']), '--device', s['device'], '--out', str(out), '--no-progress']
    for k, v in extra.items():
        flag = '--' + k.replace('_', '-')
        argv += [flag] if v is True else [flag, *map(str, v)] if isinstance(v, tuple) else [flag, str(v)]
    return argv

def _peak_memory():
    import torch
    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else None

def step_env(s, work):
    import torch
    r = dict(python=platform.python_version(), torch=torch.__version__, cuda=torch.version.cuda,
             cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
             cpu_count=os.cpu_count(), device=s['device'])
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        r.update(gpu=p.name, gpu_memory_gb=round(p.total_memory / 2**30, 1), capability=f'{p.major}.{p.minor}',
                 gpus=torch.cuda.device_count())
        try: r['driver'] = subprocess.run(['nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'],
                                          capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
        except Exception as e: r['driver'] = f'unknown ({type(e).__name__})'
    elif s['device'] == 'cuda': raise RuntimeError('torch sees no CUDA device: this Python has no CUDA torch, or no GPU is visible.')
    import cifar_resnet
    r['cifar_resnet'] = cifar_resnet.__version__
    return r

def _train_run(s, work, name, **extra):
    "One run through the real command line; per-epoch speed from its log, peak memory of this process."
    import torch
    from cifar_resnet.train import train_cli
    from cifar_resnet.logs import read_log
    from cifar_resnet.data import load_dataset
    load_dataset('synthetic', work / 'data', n_train=s['n_train'], n_test=s['n_test'])   # written once, outside the clock
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    if torch.cuda.is_available(): torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    train_cli(_train_argv(s, work / 'data', out, **extra))
    wall = time.perf_counter() - t0
    log = read_log(out)
    ips = [round(r['images_per_s']) for r in log]
    last = log[-1]
    return dict(images_per_s=ips, epoch_s=[round(r['time_s'], 2) for r in log], wall_s=round(wall, 1),
                peak_memory_gb=_peak_memory(), test_acc_synthetic=round(last['test_acc'], 2),
                projected_150_epochs_min=round(150 * 50_000 / ips[-1] / 60, 2), checkpoint=str(out / 'best.pt'),
                config={k: v for k, v in extra.items()})

def step_train_reference(s, work):
    "The reference's path: fp16 autocast + GradScaler on CUDA (amp auto), eager, default memory format."
    return _train_run(s, work, 'reference_path', amp='fp16')

def step_train_fast(s, work):
    "The fast path: bf16 autocast, channels_last, torch.compile of the model and of the augmentation."
    return _train_run(s, work, 'fast_path', amp='bf16', channels_last=True, compile=True, compile_augment=True)

def step_bench_data(s, work):
    from cifar_resnet.bench import bench_augment
    r = bench_augment(n_images=s['bench_images'], device=s['device'], rounds=1,   # compiled on the GPU; eager in a dry run
                      **({} if s['device'] == 'cuda' else dict(batch_size=256, workers=1, threads=1, compile_augment=False)))
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()}

def step_bench_train(s, work):
    from cifar_resnet.bench import bench_train
    kw = dict(compile_augment=True) if s['device'] == 'cuda' else dict(batch_size=16, steps=s['bench_steps'], warmup=1, widths=s['widths'])
    configs = [('fp32', dict(amp='off')), ('AMP fp16 (reference)', dict(amp='fp16')),   # (compile: train_fast compiles)
               ('AMP bf16 + channels_last', dict(amp='bf16', channels_last=True))]
    return dict(rows=list(bench_train(s['device'], configs=None if s['device'] == 'cuda' else configs, **kw)))

def step_bench_evaluate(s, work):
    "The whole evaluation (metrics, bootstrap, Grad-CAM of the worst images) against the plain top-1 evaluation."
    from cifar_resnet.bench import bench_evaluate
    kw = {} if s['device'] == 'cuda' else dict(n_images=200, batch_size=100, widths=s['widths'])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in bench_evaluate(device=s['device'], **kw).items()}

def step_resume(s, work):
    "SIGKILL after the first checkpoint inside an epoch, then --resume: bit-exact against an uninterrupted run (fp16 on a GPU)."
    os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')   # deterministic cuBLAS, set before CUDA starts here
    import torch
    from cifar_resnet.train import train_cli
    from cifar_resnet.model import read_checkpoint
    from cifar_resnet.data import load_dataset
    r = dict(s, n_train=s['resume_train'], n_test=s['n_test'] // 5, widths=s['resume_widths'], batch_size=s['resume_batch'])
    data = work / 'resume_data'
    load_dataset('synthetic', data, n_train=r['n_train'], n_test=r['n_test'])
    kw = dict(amp=s['resume_amp'], save_every=3, deterministic=True)
    argv = lambda out: _train_argv(r, data, out, **kw)
    ref, run = work / 'resume_ref', work / 'resume_killed'
    for d in (ref, run): shutil.rmtree(d, ignore_errors=True)
    train_cli(argv(ref))
    p = subprocess.Popen([sys.executable, '-c', 'from cifar_resnet.train import train_cli; train_cli()', *argv(run)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.time()
    while not (run / 'last.pt').exists() and p.poll() is None and time.time() - t0 < 100: time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()
    if p.returncode != -signal.SIGKILL: raise RuntimeError(f'the run ended before the kill: {p.stderr.read().decode()[-1500:]}')
    killed = read_checkpoint(run / 'last.pt')
    train_cli(argv(run) + ['--resume'])
    a, b = read_checkpoint(run / 'last.pt'), read_checkpoint(ref / 'last.pt')
    same = all(torch.equal(a['model'][k], b['model'][k]) for k in b['model'])
    if not same: raise AssertionError('the resumed weights differ from the uninterrupted run')
    return dict(killed_at=dict(epoch=killed['epoch'], batch=killed['batch'], step=killed['step']),
                final_step=a['step'], bit_exact=same, scaler_equal=a['scaler'] == b['scaler'])

def _checkpoint(work):
    ck = work / 'reference_path' / 'best.pt'
    if not ck.exists(): raise RuntimeError('needs the checkpoint of step train_reference, which did not finish')
    return ck

def step_gradcam(s, work):
    from cifar_resnet.gradcam import gradcam_cli
    out = work / 'gradcam'
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    gradcam_cli(['--checkpoint', str(_checkpoint(work)), '--dataset', 'synthetic', '--data-dir', str(work / 'data'),
                 '--out', str(out), '--per-class', str(s['per_class']), '--device', s['device']])
    files = sorted(p.name for p in out.glob('*.png'))
    if len(files) != 101: raise AssertionError(f'{len(files)} PNG files, expected 100 classes + index.png')
    return dict(files=len(files), seconds=round(time.perf_counter() - t0, 1), index=str(out / 'index.png'))

def step_predictor(s, work):
    import numpy as np
    from cifar_resnet.demo import Predictor
    from cifar_resnet.data import load_dataset
    data = load_dataset('synthetic', work / 'data', create=False)
    imgs = data.test_x[:256].permute(0, 2, 3, 1).numpy()
    dev, cpu = Predictor.from_checkpoint(_checkpoint(work), device=s['device']), Predictor.from_checkpoint(_checkpoint(work), device='cpu')
    t0 = time.perf_counter(); pd = dev.predict(list(imgs)); dt = time.perf_counter() - t0
    pc = cpu.predict(list(imgs))
    agree = np.mean([a.indices[0] == b.indices[0] for a, b in zip(pd, pc)])
    diff = max(abs(x - y) for a, b in zip(pd, pc) for x, y in zip(a.probs, b.probs))
    _, heat_d, c_d = dev.explain(imgs[0]); _, heat_c, c_c = cpu.explain(imgs[0])
    if agree < 0.99 or diff > 1e-2 or c_d != c_c or np.abs(heat_d - heat_c).max() > 1e-2:
        raise AssertionError(f'{s["device"]} and CPU disagree: top-1 agreement {agree:.3f}, max prob diff {diff:.4f}')
    return dict(device=str(dev.device), images=len(imgs), seconds=round(dt, 3), top1_agreement_with_cpu=float(agree),
                max_prob_diff=round(float(diff), 6), gradcam_max_diff=round(float(np.abs(heat_d - heat_c).max()), 6))

def step_notebooks(s, work):
    "The notebooks with `cuda` cells, run up to their last `cuda` cell (cells needing a missing package are skipped)."
    res = {}
    for nb in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        if any('cuda' in _directives(c) for c in cells): res[nb.name] = run_notebook(nb, set(s['flags']))
    failed = {k: v for k, v in res.items() if v['failed'] or ('cuda' in s['flags'] and v['cuda_cells'] < v['cuda_expected'])}
    if failed: raise AssertionError(json.dumps(failed, indent=1)[:3000])
    return res


# ------------------------------------------------------------------------- a notebook runner without Jupyter
def _directives(cell):
    "The `#|` directives at the top of a code cell, as a dict (flags map to True)."
    if cell['cell_type'] != 'code': return {}
    out = {}
    for line in ''.join(cell['source']).splitlines():
        if not line.startswith('#|'): break
        k, _, v = line[2:].strip().partition(':')
        out[k.strip()] = v.strip() or True
    return out

def _bound_names(src):
    "Names that a cell's top-level imports and assignments bind (to recognise later cells that need them)."
    try: tree = ast.parse(src)
    except SyntaxError: return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)): names |= {(a.asname or a.name).split('.')[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)): names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store): names.add(node.id)
    return names

def run_notebook(path:Path, flags:set):
    """Run a notebook's code cells in order in one namespace, as `nbdev_test` does (skipping `eval: false` and cells
    whose test flag is not in `flags`), up to its last `cuda` cell. A cell that fails for want of a package that is
    not installed here (and later cells that need what it defines) is skipped and reported, never hidden."""
    import matplotlib; matplotlib.use('Agg')
    cells = json.loads(path.read_text())['cells']
    last = max((i for i, c in enumerate(cells) if 'cuda' in _directives(c)), default=len(cells) - 1)
    report = dict(ran=0, skipped=[], failed=None, cuda_cells=0, cuda_expected=sum('cuda' in _directives(c) for c in cells))
    ns, missing = {'__name__': '__main__'}, set()
    cwd = os.getcwd(); os.chdir(path.parent)
    try:
        for i, c in enumerate(cells[:last + 1]):
            d = _directives(c)
            if c['cell_type'] != 'code' or d.get('eval') == 'false' or any(f in d and f not in flags for f in ('slow', 'cuda')):
                continue
            src = ''.join(c['source'])
            try: exec(compile(src, f'{path.name}[{i}]', 'exec'), ns)
            except ModuleNotFoundError as e:
                report['skipped'].append(f'cell {i}: needs {e.name}'); missing |= _bound_names(src); continue
            except NameError as e:
                if e.name in missing:
                    report['skipped'].append(f'cell {i}: needs {e.name} (from a skipped cell)'); missing |= _bound_names(src); continue
                report['failed'] = f'cell {i}: ' + ''.join(traceback.format_exception_only(e)).strip(); break
            except Exception as e:
                report['failed'] = f'cell {i}: ' + ''.join(traceback.format_exception(e)[-3:]).strip()[-1500:]; break
            report['ran'] += 1; report['cuda_cells'] += 'cuda' in d
    finally: os.chdir(cwd)
    return report


# ------------------------------------------------------------------------------------------- the report
def _fmt(v): return f'{v:,}' if isinstance(v, int) and not isinstance(v, bool) else str(v)

def report_rows(results:dict, dry:bool):
    "(figure, value, goal) rows of the report from the steps' results."
    rows, get = [], lambda step, key, default='failed': results.get(step, {}).get('result', {}).get(key, default)
    env = results.get('env', {}).get('result', {})
    rows.append(('device', f"{env.get('gpu', env.get('device', '?'))}, driver {env.get('driver', '-')}, torch {env.get('torch')}, "
                           f"CUDA {env.get('cuda')}", ''))
    for step, label in (('train_reference', "reference's path (fp16 + GradScaler)"), ('train_fast', 'fast path (bf16, channels_last, compiled model and augmentation)')):
        ips = get(step, 'images_per_s', None)
        rows.append((f'{label}: training images/s per epoch', ', '.join(map(_fmt, ips)) if ips else 'failed',
                     f'>= {GOAL_IPS:,.0f}'))
        rows.append((f'{label}: 150 epochs projected (min)', _fmt(get(step, 'projected_150_epochs_min')), '< 3'))
        rows.append((f'{label}: peak GPU memory (GiB)', _fmt(get(step, 'peak_memory_gb')), ''))
    for r in results.get('bench_train', {}).get('result', {}).get('rows', []):
        rows.append((f"bench train {r['config']}: images/s (augment % of step)", f"{r['images/s']:,} ({r['augment %']}%)",
                     f'augment < {GOAL_AUG}%'))
    bd = results.get('bench_data', {}).get('result', {})
    rows.append(('bench data: batched augmentation images/s (x the reference pipeline)',
                 f"{bd['batched_images_per_s']:,.0f} ({bd['speedup']:.1f}x)" if bd else 'failed', ''))
    be = results.get('bench_evaluate', {}).get('result', {})
    rows.append(('evaluation, everything / plain top-1 (time ratio)', f"{be['ratio']:.2f}" if be else 'failed', '<= 1.5'))
    rows.append(('kill -9 + --resume: bit-exact', _fmt(get('resume', 'bit_exact')), 'True'))
    rows.append(('Grad-CAM gallery (files, s)', f"{get('gradcam', 'files')}, {get('gradcam', 'seconds')}", '101'))
    rows.append(('predictor: top-1 agreement with the CPU', _fmt(get('predictor', 'top1_agreement_with_cpu')), '1.0'))
    nbs = results.get('notebooks', {}).get('result', {})
    rows.append(('notebook cuda cells run', ', '.join(f"{k}: {v['cuda_cells']}" for k, v in nbs.items()) or 'failed', 'all'))
    return rows

def write_report(out:Path, results:dict, dry:bool, started:float):
    "gpu-report.json (everything) and gpu-report.md (the table and each step's status), rewritten after every step."
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(dry_run=dry, started=time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started)),
                seconds=round(time.time() - started, 1), goals=dict(images_per_s=round(GOAL_IPS), augment_percent=GOAL_AUG))
    (out / 'gpu-report.json').write_text(json.dumps(dict(meta, steps=results), indent=1, default=str))
    title = ('# GPU check: DRY RUN on the CPU, tiny sizes: these figures say nothing about a GPU\n' if dry
             else '# GPU check\n')
    lines = [title, f"{meta['started']}, {meta['seconds']} s. Accuracies are on a SYNTHETIC set (not CIFAR-100); "
             "speeds are measured, goals are not pass/fail.\n", '| figure | value | goal |', '|---|---|---|']
    lines += [f'| {a} | {b} | {c} |' for a, b, c in report_rows(results, dry)]
    lines += ['', '| step | status | seconds | note |', '|---|---|---|---|']
    lines += [f"| {k} | {v['status']} | {v['seconds']} | {v.get('error', '')[:200].replace(chr(10), ' ').replace('|', '/')} |"
              for k, v in results.items()]
    (out / 'gpu-report.md').write_text('\n'.join(lines) + '\n')


# ------------------------------------------------------------------------------------------- the driver
def run_step(name:str, limit:int, out:Path, work:Path, dry:bool):
    "Run one step in a child process with a time limit; its log goes to work/<name>.log."
    res_file, log = work / f'{name}.json', work / f'{name}.log'
    res_file.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, str(out), '--work', str(work), '--step', name] + (['--dry-run'] if dry else [])
    t0 = time.time()
    with open(log, 'w') as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        try: p.wait(timeout=limit); status = 'ok' if p.returncode == 0 else 'failed'
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL); p.wait(); status = 'timeout'
    r = dict(status=status, seconds=round(time.time() - t0, 1))
    if res_file.exists(): r.update(json.loads(res_file.read_text()))
    if status != 'ok':
        tail = log.read_text()[-1500:] if log.exists() else ''
        r['error'] = r.get('error') or (f'over its {limit} s' if status == 'timeout' else '') + tail
    return r

def main(argv=None):
    p = argparse.ArgumentParser(prog='tools/gpu-check', description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out', help='folder for gpu-report.md, gpu-report.json and the small pictures')
    p.add_argument('--dry-run', action='store_true', help='the same steps at tiny sizes on the CPU')
    p.add_argument('--work', default=None, help='scratch folder for data and runs (default: a temporary folder, removed)')
    p.add_argument('--budget', type=float, default=480, help='seconds for all steps together (a step gets what is left, '
                   'at most its own limit; steps that find less than 15 s are skipped); 3x on a --dry-run')
    p.add_argument('--only', nargs='+', choices=[n for n, _ in STEPS], help='run only these steps')
    p.add_argument('--step', help=argparse.SUPPRESS)           # internal: run one step in this process
    a = p.parse_args(argv)
    s, out = SIZES['cpu' if a.dry_run else 'gpu'], Path(a.out).resolve()
    if a.step:                                                 # the child: one step, its result as JSON
        work = Path(a.work)
        try: res = dict(result=globals()[f'step_{a.step}'](s, work))
        except BaseException as e:
            traceback.print_exc(); res = dict(error=''.join(traceback.format_exception_only(e)).strip()[-2000:])
            (work / f'{a.step}.json').write_text(json.dumps(res, default=str)); sys.exit(1)
        (work / f'{a.step}.json').write_text(json.dumps(res, default=str)); return
    if not a.dry_run:
        import torch
        if not torch.cuda.is_available():
            sys.exit(f'gpu-check: {sys.executable} has torch {torch.__version__} without a usable CUDA device. '
                     'Run it on a GPU machine (PYTHON=/path/to/python with CUDA torch), or use --dry-run on a CPU.')
    work = Path(a.work).resolve() if a.work else Path(tempfile.mkdtemp(prefix='gpu_check_'))
    work.mkdir(parents=True, exist_ok=True)
    started, results = time.time(), {}
    try:
        for name, limit in STEPS:
            if a.only and name not in a.only: continue
            slack = 3 if a.dry_run else 1                                     # a busy CPU gets room
            limit = min(limit * slack, a.budget * slack - (time.time() - started))
            if limit < 15: results[name] = dict(status='skipped', seconds=0, error='out of time (--budget)'); continue
            print(f'gpu-check: {name} (at most {limit:.0f} s) ...', flush=True)
            results[name] = run_step(name, round(limit), out, work, a.dry_run)
            print(f"gpu-check: {name}: {results[name]['status']} in {results[name]['seconds']} s", flush=True)
            write_report(out, results, a.dry_run, started)
        write_report(out, results, a.dry_run, started)
        for src, dst in ((work / 'gradcam' / 'index.png', 'gradcam-index.png'), (work / 'reference_path' / 'curves.png', 'reference-path-curves.png')):
            if src.exists(): shutil.copy(src, out / dst)
        with open(out / 'gpu-check.log', 'w') as log:                  # every step's output, in one file
            for name, _ in STEPS:
                if (work / f'{name}.log').exists(): log.write(f'===== {name}\n' + (work / f'{name}.log').read_text()[-200_000:])
    finally:
        if not a.work: shutil.rmtree(work, ignore_errors=True)
    bad = [k for k, v in results.items() if v['status'] != 'ok']
    print((out / 'gpu-report.md').read_text())
    print(f"gpu-check: {len(results) - len(bad)} steps ok, {len(bad)} not ok{': ' + ', '.join(bad) if bad else ''}; report in {out}")
    sys.exit(1 if bad else 0)

if __name__ == '__main__': main()
