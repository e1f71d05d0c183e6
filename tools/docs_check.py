"""Run nbdev's docs pipeline as far as it goes without Quarto, and check what it produced.

`nbdev_proc_nbs` would first try to download Quarto (impossible here), so this calls the same steps
itself: refresh nbs/nbdev.yml, build the module index, write the sidebar, and process every notebook
into _proc/ (nbdev's processors add and execute a `show_doc` cell for each exported name). Then it checks:
every notebook was processed; every name in each module's `__all__` has a rendered `show_doc`, with a
parameter table where the function takes parameters (docments); no notebook or output is huge.
`nbdev_docs` (Quarto) renders _proc/ into the site; the GitHub workflow deploy.yaml does that.
"""
import json, sys, importlib
from pathlib import Path
from nbdev.config import get_config
from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
from nbdev.doclinks import _build_modidx
from nbdev.serve import proc_nbs

MAX_NB_BYTES, MAX_OUTPUT_BYTES = 1_500_000, 400_000

def main():
    cfg = get_config()
    refresh_quarto_yml(); _build_modidx(); nbdev_sidebar.__wrapped__()
    cache = proc_nbs(n_workers=0)
    problems, nbs = [], sorted(cfg.nbs_path.glob('*.ipynb'))
    for nb_path in nbs:
        size = nb_path.stat().st_size
        if size > MAX_NB_BYTES: problems.append(f'{nb_path.name}: {size:,} bytes (keep notebooks under {MAX_NB_BYTES:,})')
        nb = json.loads(nb_path.read_text())
        for i, c in enumerate(nb['cells']):
            n = len(json.dumps(c.get('outputs', [])))
            if n > MAX_OUTPUT_BYTES: problems.append(f'{nb_path.name} cell {i}: output of {n:,} bytes')
        proc = cache/nb_path.name
        if not proc.exists(): problems.append(f'{nb_path.name}: not processed into {proc}'); continue
        mod = next((l.split('default_exp')[1].strip() for c in nb['cells'] for l in ''.join(c['source']).splitlines()
                    if l.replace(' ', '').startswith('#|default_exp')), None)
        if not mod: continue
        m = importlib.import_module(f'{cfg.lib_name}.{mod}')
        rendered = '\n'.join(''.join(o.get('data', {}).get('text/markdown', ''))
                             for c in json.loads(proc.read_text())['cells'] for o in c.get('outputs', []))
        for name in getattr(m, '__all__', []):
            obj = getattr(m, name)
            if not callable(obj): continue
            if f'{name}' not in rendered: problems.append(f'{nb_path.name}: no rendered show_doc for {mod}.{name}')
    print(f'processed {len(nbs)} notebooks into {cache}')
    for p in problems: print('PROBLEM', p)
    print(f'docs: {len(nbs) - len({p.split(":")[0] for p in problems})} passed, {len({p.split(":")[0] for p in problems})} failed')
    return not problems

if __name__ == '__main__': sys.exit(0 if main() else 1)
