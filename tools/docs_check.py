"""Run nbdev's docs pipeline as far as it goes without Quarto, and check what it produced.

`nbdev_proc_nbs` would first try to download Quarto (impossible here), so this calls the same steps
itself: refresh nbs/nbdev.yml, build the module index, write the sidebar, and process every notebook
into _proc/ (nbdev's processors add and execute a `show_doc` cell for each exported name). Then it checks:
every notebook was processed; every name in each module's `__all__` has a rendered `show_doc`; every
parameter of every exported function (and of every exported class's own `__init__`) has a docment, and the
rendered doc shows it; the define -> example -> test rhythm holds (no two exported cells without an example or
test between them); no notebook is over 250 KB and no output is huge.
`nbdev_docs` (Quarto) renders _proc/ into the site; the GitHub workflow deploy.yaml does that.
"""
import json, sys, importlib, inspect, re
from fastcore.docments import docments
from nbdev.config import get_config
from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
from nbdev.doclinks import _build_modidx
from nbdev.serve import proc_nbs

MAX_NB_BYTES, MAX_OUTPUT_BYTES = 250_000, 150_000

def _docs_of(obj):
    "(parameters, docments) of a function or of a class's own __init__; None where there is no source to read."
    if inspect.isclass(obj) and ('__init__' not in vars(obj) or getattr(obj, '__dataclass_fields__', None)): return None
    fn = obj.__init__ if inspect.isclass(obj) else obj
    try: return inspect.signature(fn).parameters, docments(fn)
    except (TypeError, ValueError, OSError): return None

def _plain(md):
    "Markdown as plain words: links and code marks (which show_doc adds) removed, whitespace collapsed."
    return ' '.join(re.sub(r'\]\([^)]*\)|[\[\]`*]', '', md).split())

def _doc_block(rendered, name):
    "The rendered show_doc of `name`: from its heading to the next one."
    m = re.search(rf'^#+ {re.escape(name)}\s*$', rendered, re.M)
    if not m: return None
    nxt = re.search(r'^---\s*$', rendered[m.end():], re.M)
    return rendered[m.start(): m.end() + (nxt.start() if nxt else len(rendered))]

def _kind(cell):
    "'export' (public code, imports aside), 'example' (a visible code cell that runs: an example or a test), or None."
    if cell['cell_type'] != 'code': return None
    src = ''.join(cell['source'])
    d = [l.replace(' ', '') for l in src.splitlines() if l.startswith('#|')]
    if any(x.startswith('#|export') and not x.startswith('#|exporti') for x in d):
        body = [l for l in src.splitlines() if l.strip() and not l.startswith('#|')]
        return None if all(re.match(r'(from \S+ import|import )', l) or l.startswith(' ') for l in body) else 'export'
    if any(x.startswith(('#|exporti', '#|hide', '#|default_exp', '#|eval:false')) for x in d): return None
    return 'example'

def rhythm_problems(nb_name, cells):
    "Exported cells that follow another exported cell with no example or test between them."
    out, last = [], None
    for i, c in enumerate(cells):
        k = _kind(c)
        if k == 'export':
            if last is not None: out.append(f'{nb_name}: cells {last} and {i} are exported with no example or test between them')
            last = i
        elif k == 'example': last = None
    return out

def main():
    cfg = get_config()
    refresh_quarto_yml(); _build_modidx(); nbdev_sidebar.__wrapped__()
    cache = proc_nbs(n_workers=0)
    problems, nbs = [], sorted(cfg.nbs_path.glob('*.ipynb'))
    for nb_path in nbs:
        size = nb_path.stat().st_size
        if size > MAX_NB_BYTES: problems.append(f'{nb_path.name}: {size:,} bytes (keep notebooks under {MAX_NB_BYTES:,})')
        nb = json.loads(nb_path.read_text())
        if nb_path.name[0].isdigit(): problems += rhythm_problems(nb_path.name, nb['cells'])
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
            block = _doc_block(rendered, name)
            if block is None: problems.append(f'{nb_path.name}: no rendered show_doc for {mod}.{name}'); continue
            if (found := _docs_of(obj)) is None: continue
            params, docs = found
            missing = [n for n, p in params.items() if n != 'self' and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and not docs.get(n)]
            if missing: problems.append(f'{nb_path.name}: {mod}.{name} has no docment for {missing}')
            unshown = [k for k, v in docs.items() if v and k != 'return' and _plain(v) not in _plain(block)]
            if unshown: problems.append(f'{nb_path.name}: the rendered doc of {mod}.{name} lacks the docments of {unshown}')
    print(f'processed {len(nbs)} notebooks into {cache}')
    for p in problems: print('PROBLEM', p)
    print(f'docs: {len(nbs) - len({p.split(":")[0] for p in problems})} passed, {len({p.split(":")[0] for p in problems})} failed')
    return not problems

if __name__ == '__main__': sys.exit(0 if main() else 1)
