"""The package's own code (cifar_resnet/*.py, except the generated _modidx.py) keeps two rules of the book:
lines of at most 120 characters, and one statement per line (no statements joined with ';').

Each problem is one line, file:line: what. Exit 1 when there is any. The ';' rule reads Python's tokens, so a ';'
inside a string or a comment is not counted. The package is what nbdev_export writes: fix the notebook cell that
exports the line (the `# %% ../nbs/...` comment above it names the notebook), then run nbdev_export.
`python tools/code_check.py --self-test` checks the two detectors on a few fabricated lines.
"""
import io, sys, tokenize
from pathlib import Path

MAX_LINE = 120

def _generated(lines):
    "Numbers of the lines nbdev writes itself: the __all__ list after '# %% auto', which it wraps at its own width."
    out, inside = set(), False
    for i, line in enumerate(lines, 1):
        inside = line.startswith('__all__ = [') or (inside and line.startswith(' ') and not line.endswith(']'))
        if inside or (line.startswith(' ') and line.endswith(']') and i - 1 in out):
            out.add(i)
    return out

def problems_in(text, name):
    "Lines over MAX_LINE characters and ';'-joined statements of Python source `text`, as 'name:line: what'."
    lines = text.splitlines()
    skip = _generated(lines)
    out = [f'{name}:{i}: {len(l)} characters (at most {MAX_LINE}): break the line'
           for i, l in enumerate(lines, 1) if len(l) > MAX_LINE and i not in skip]
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as e:
        return out + [f'{name}: cannot be tokenized ({e})']
    joined = sorted({t.start[0] for t in toks if t.type == tokenize.OP and t.string == ';'})
    out += [f"{name}:{i}: statements joined with ';': put each on its own line" for i in joined]
    return sorted(out, key=lambda p: int(p.split(':')[1]) if p.split(':')[1].isdigit() else 0)

def self_test():
    "Each rule fires on a fabricated bad line and not on strings or comments that merely contain ';' or length."
    bad = problems_in('a = 1; b = 2\nx = ' + '1 + ' * 40 + '1\n', 't.py')
    assert [p.split(':')[1] for p in bad] == ['1', '2'], bad
    good = 's = "a; b"\n# c; d\nt = """\n;\n"""\nu = f"{s};"\n'
    good += "__all__ = ['" + "a', '" * 30 + "b',\n           '" + "c', '" * 30 + "d']\n"   # nbdev's own wrapping
    assert problems_in(good, 't.py') == [], problems_in(good, 't.py')
    print('self-test: the line-length and ; detectors fire on bad lines and pass good ones')
    return True

def main(lib=Path(__file__).resolve().parent.parent / 'cifar_resnet'):
    self_test()   # the detectors are known to fire before they pass anything
    files = sorted(p for p in lib.glob('*.py') if p.name != '_modidx.py')
    problems = [p for f in files for p in problems_in(f.read_text(), f'{lib.name}/{f.name}')]
    for p in problems: print(p)
    print(f'code: {len(files)} modules, {len(problems)} problems')
    return not problems

if __name__ == '__main__':
    sys.exit(0 if (self_test() if '--self-test' in sys.argv[1:] else main()) else 1)
