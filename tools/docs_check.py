"""Run nbdev's docs pipeline as far as it goes without Quarto, and check what it produced.

`nbdev_proc_nbs` would first try to download Quarto (impossible here), so this calls the same steps
itself: refresh nbs/nbdev.yml, build the module index, write the sidebar, and process every chapter notebook
into _proc/ (nbdev's processors add and execute a `show_doc` cell for each exported name). Then it checks:
every chapter was processed; every name in each module's `__all__` has a rendered `show_doc`; every
parameter of every exported function (and of every exported class's own `__init__`) has a docment, and the
rendered doc shows it; the define -> example -> test rhythm holds (no two exported cells without an example or
test between them); no notebook is over 250 KB and no output is huge. And the four defects a Quarto render
shows, read from _proc/: an image link that names no file the page has; a link (or backtick) inside a show_doc
signature; a default longer than 60 characters printed in a signature; a code line over 120 characters in a
code cell the site shows.
Test notebooks (nbs/_*.ipynb: run by tools/test, skipped by nbdev's glob and by Quarto, so never on the site)
are only checked for size and for code lines over 120 characters.
`nbdev_docs` (Quarto) renders _proc/ into the site; the GitHub workflow deploy.yaml does that.
`python tools/docs_check.py --self-test` runs the four site-defect detectors on tiny fabricated cells.
"""
import json, sys, importlib, inspect, re
from pathlib import Path
from fastcore.docments import docments

MAX_NB_BYTES, MAX_OUTPUT_BYTES = 250_000, 150_000
MAX_LINE, MAX_DEFAULT = 120, 60

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
            if last is not None:
                out.append(f'{nb_name}: cells {last} and {i} are exported with no example or test between them')
            last = i
        elif k == 'example': last = None
    return out

# ---- the four defects a Quarto render shows, read from a processed (_proc/) notebook's cells ----

def _src(cell): return ''.join(cell.get('source', ''))

def _directives(cell):
    "The cell's `#| key: value` lines as {key: value}, keys without spaces."
    out = {}
    for l in _src(cell).splitlines():
        if l.startswith('#|'):
            k, _, v = l[2:].partition(':')
            out[k.strip().replace(' ', '')] = v.strip().lower()
    return out

def _where(cell, i, src_index):
    "How a problem names a cell: its index in the source notebook (by cell id), else in the processed one."
    j = src_index.get(cell.get('id'))
    return f'cell {j}' if j is not None else f'processed cell {i}'

_IMG_MD = re.compile(r'!\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
_IMG_HTML = re.compile(r'<img\b[^>]*?\bsrc\s*=\s*["\']?([^"\'\s>]*)', re.I)

def _markdown_of(cell):
    "Markdown a page shows for a cell: a Markdown cell's source, or a code cell's Markdown/HTML outputs."
    if cell['cell_type'] == 'markdown': return [_src(cell)]
    return [''.join(o.get('data', {}).get(k, '')) for o in cell.get('outputs', [])
            for k in ('text/markdown', 'text/html')]

def image_problems(nb_name, cells, nb_dir, src_index=None):
    "Image links (Markdown or <img>) that name no file the page has: next to the notebook, an attachment, an output."
    src_index = src_index or {}
    outputs = {Path(f).name for c in cells for o in c.get('outputs', [])
               for f in (o.get('metadata', {}).get('filenames', {}) or {}).values()}
    out = []
    for i, c in enumerate(cells):
        for md in _markdown_of(c):
            for link in _IMG_MD.findall(md) + _IMG_HTML.findall(md):
                if re.match(r'(https?:|data:|//)', link): continue
                if link.startswith('attachment:'):
                    if link[len('attachment:'):] in (c.get('attachments') or {}): continue
                else:
                    path = link.split('#')[0].split('?')[0]
                    if path and ((Path(nb_dir) / path).is_file() or Path(path).name in outputs): continue
                out.append(f'{nb_name} {_where(c, i, src_index)}: image link ({link!r}) names no file the page has: '
                           f'show the image as an output (e.g. IPython.display.Image) or link a file committed next to '
                           f'the notebook')
    return out

def _split_params(sig):
    "The parameters of a printed signature `def f(...)` / `class C(...)`: comments dropped, split at top-level commas."
    start = sig.find('(')
    if start < 0: return []
    params, cur, depth, quote, i = [], '', 0, None, start + 1
    while i < len(sig):
        ch = sig[i]
        if quote:
            cur += ch
            if ch == '\\' and i + 1 < len(sig):
                cur += sig[i + 1]
                i += 1
            elif ch == quote:
                quote = None
        elif ch in '\'"':
            quote = ch
            cur += ch
        elif ch == '#':
            while i < len(sig) and sig[i] != '\n':
                i += 1
            continue
        elif ch in '([{':
            depth += 1
            cur += ch
        elif ch in ')]}':
            if depth == 0:
                break
            depth -= 1
            cur += ch
        elif ch == ',' and depth == 0:
            params.append(cur.strip())
            cur = ''
        else:
            cur += ch
        i += 1
    if cur.strip(): params.append(cur.strip())
    return params

def _default_of(param):
    "The printed default of one parameter ('name:ann=default'), or None; `=` inside brackets or strings is not it."
    depth, quote = 0, None
    for i, ch in enumerate(param):
        if quote:
            if ch == quote: quote = None
        elif ch in '\'"': quote = ch
        elif ch in '([{<': depth += 1
        elif ch in ')]}>': depth -= 1
        elif ch == '=' and depth == 0 and param[i + 1:i + 2] != '=' and param[i - 1:i] not in '=!<>':
            return param[i + 1:].strip()
    return None

_SIG = re.compile(r'```python\n(.*?)\n```', re.S)
_LINK = re.compile(r'\[[^\]\n]*\]\([^)\s]*\)')

def signature_problems(nb_name, cells):
    "show_doc signatures that carry a Markdown link or a backtick, or print a default over MAX_DEFAULT characters."
    out = []
    for c in cells:
        if c['cell_type'] != 'code' or not re.search(r'^show_doc', _src(c), re.M): continue
        for o in c.get('outputs', []):
            md = ''.join(o.get('data', {}).get('text/markdown', ''))
            name = re.search(r'^#+ (\S+)\s*$', md, re.M)
            sig = _SIG.search(md)
            if not sig: continue
            name, sig = name.group(1) if name else '?', sig.group(1)
            links = _LINK.findall(sig)
            if links:
                out.append(f'{nb_name}: signature of {name} shows {len(links)} link(s), e.g. {links[0][:60]!r}: '
                           f'write names in its docments plainly, without backticks')
            elif '`' in sig:
                out.append(f'{nb_name}: signature of {name} shows a backtick: write names in its docments plainly')
            for p in _split_params(sig):
                d = _default_of(p)
                if d is not None and len(d) > MAX_DEFAULT:
                    pname = re.split(r'[:=]', p)[0].strip()
                    out.append(f'{nb_name}: signature of {name} prints a {len(d)}-character default for {pname} '
                               f'({d[:40]}...): default to None and fill it in the body')
    return out

def code_line_problems(nb_name, cells, src_index=None):
    "Code cells the site shows (not echo: false / include: false, source not removed) with lines over MAX_LINE."
    src_index, out = src_index or {}, []
    for i, c in enumerate(cells):
        if c['cell_type'] != 'code': continue
        d = _directives(c)
        if d.get('echo') == 'false' or d.get('include') == 'false': continue
        long = [l for l in _src(c).splitlines() if len(l) > MAX_LINE and not l.startswith('#|')]
        if long:
            out.append(f'{nb_name} {_where(c, i, src_index)}: {len(long)} code line(s) over {MAX_LINE} characters '
                       f'(longest {max(map(len, long))}: {long[0][:50]!r}...): break them')
    return out

def self_test():
    "Each detector fires on a tiny fabricated cell and stays quiet on a good one."
    md = lambda s, **kw: dict(cell_type='markdown', source=s, **kw)
    code = lambda s, outs=(): dict(cell_type='code', source=s, outputs=list(outs))
    mdout = lambda s: dict(output_type='display_data', data={'text/markdown': s})
    here = Path(__file__).parent
    bad = image_problems('t', [md('![x](#comparison.png)'), code('x', [mdout('<img src="nope.png">')]),
                               md('![a](attachment:b.png)', attachments={'a.png': {}})], here)
    assert len(bad) == 3 and all('names no file' in b for b in bad), bad
    good = [md('![x](docs_check.py) ![y](https://x.org/y.png)'),
            md('![a](attachment:a.png)', attachments={'a.png': {}})]
    assert image_problems('t', good, here) == []
    doc = lambda sig: code('show_doc(f)', [mdout(f'### f\n\n```python\n{sig}\n```\n\n*Doc.*')])
    link = doc('def f(\n    x:int, # see [`g`](https://a.io/g.html#g)\n):')
    long_default = doc("def f(\n    classes:list=['apple', " + "'bee', " * 20 + "], # names\n    k:int=5, # top k\n):")
    assert any('1 link' in p for p in signature_problems('t', [link])), signature_problems('t', [link])
    found = signature_problems('t', [long_default])
    assert len(found) == 1 and 'default for classes' in found[0], found
    ok = doc("def f(\n    x:int=3, # a (see g), = and # are fine: 'a,b'\n    y:str='a=b', # text\n)->int:")
    assert signature_problems('t', [ok]) == [], signature_problems('t', [ok])
    params = _split_params("class C(\n    a:tuple=(1, 2), # one, two\n    b:str='x)y', # s\n):")
    assert params == ['a:tuple=(1, 2)', "b:str='x)y'"], params
    wide, hidden = code('y = 1\n' + 'x' * 121), code('#| echo: false\n' + 'x' * 121)
    assert len(code_line_problems('t', [wide, hidden, code('#| hide_line: ' + 'x' * 130)])) == 1
    print('self-test: the four detectors fire on bad cells and pass good ones')
    return True

def _nb_split(nbs_path):
    "(chapters, test notebooks): nbdev processes the first; the second are nbs/_*.ipynb, run only by tools/test."
    chapters = sorted(p for p in nbs_path.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return chapters, sorted(nbs_path.glob('_*.ipynb'))

def main():
    self_test()   # milliseconds: the detectors below are known to fire before they pass anything
    from nbdev.config import get_config
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.doclinks import _build_modidx
    from nbdev.serve import proc_nbs
    cfg = get_config()
    refresh_quarto_yml()
    _build_modidx()
    nbdev_sidebar.__wrapped__()
    cache = proc_nbs(n_workers=0)
    problems, (nbs, tests) = [], _nb_split(cfg.nbs_path)
    sidebar = (cfg.nbs_path / 'sidebar.yml').read_text()
    for nb_path in tests:
        if nb_path.stem in sidebar: problems.append(f'{nb_path.name}: the sidebar lists a test notebook')
    for nb_path in nbs + tests:
        size = nb_path.stat().st_size
        if size > MAX_NB_BYTES:
            problems.append(f'{nb_path.name}: {size:,} bytes (keep notebooks under {MAX_NB_BYTES:,})')
        nb = json.loads(nb_path.read_text())
        src_index = {c.get('id'): i for i, c in enumerate(nb['cells'])}
        for i, c in enumerate(nb['cells']):
            n = len(json.dumps(c.get('outputs', [])))
            if n > MAX_OUTPUT_BYTES: problems.append(f'{nb_path.name} cell {i}: output of {n:,} bytes')
        if nb_path in tests:
            problems += code_line_problems(nb_path.name, nb['cells'], src_index)
            if any(k.startswith(('export', 'default_exp')) for c in nb['cells'] for k in _directives(c)):
                problems.append(f'{nb_path.name}: a test notebook exports code, which nbdev_export skips '
                                f'(it skips names starting with _): move the export to its chapter')
            continue
        if nb_path.name[0].isdigit(): problems += rhythm_problems(nb_path.name, nb['cells'])
        proc = cache / nb_path.name
        if not proc.exists():
            problems.append(f'{nb_path.name}: not processed into {proc}')
            continue
        pcells = json.loads(proc.read_text())['cells']
        problems += image_problems(nb_path.name, pcells, nb_path.parent, src_index)
        problems += signature_problems(nb_path.name, pcells)
        problems += code_line_problems(nb_path.name, pcells, src_index)
        mod = next((l.split('default_exp')[1].strip() for c in nb['cells'] for l in _src(c).splitlines()
                    if l.replace(' ', '').startswith('#|default_exp')), None)
        if not mod: continue
        m = importlib.import_module(f'{cfg.lib_name}.{mod}')
        rendered = '\n'.join(''.join(o.get('data', {}).get('text/markdown', ''))
                             for c in pcells for o in c.get('outputs', []))
        for name in getattr(m, '__all__', []):
            obj = getattr(m, name)
            if not callable(obj): continue
            block = _doc_block(rendered, name)
            if block is None:
                problems.append(f'{nb_path.name}: no rendered show_doc for {mod}.{name}')
                continue
            if (found := _docs_of(obj)) is None: continue
            params, docs = found
            missing = [n for n, p in params.items()
                       if n != 'self' and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and not docs.get(n)]
            if missing: problems.append(f'{nb_path.name}: {mod}.{name} has no docment for {missing}')
            unshown = [k for k, v in docs.items() if v and k != 'return' and _plain(v) not in _plain(block)]
            if unshown:
                problems.append(f'{nb_path.name}: the rendered doc of {mod}.{name} lacks the docments of {unshown}')
    print(f'processed {len(nbs)} notebooks into {cache}; checked {len(tests)} test notebooks')
    for p in problems: print('PROBLEM', p)
    bad = {re.split(r'[: ]', p)[0] for p in problems}
    print(f'docs: {len(nbs) + len(tests) - len(bad)} passed, {len(bad)} failed')
    return not problems

if __name__ == '__main__':
    sys.exit(0 if (self_test() if '--self-test' in sys.argv[1:] else main()) else 1)
