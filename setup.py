"""Packaging for cifar_resnet: everything comes from settings.ini (nbdev's single source of metadata).

nbdev 2's template setup.py imports `pkg_resources`, which current setuptools no longer ships;
this one reads the requirement lists straight from settings.ini and otherwise follows that template.
"""
from configparser import ConfigParser
from pathlib import Path
from setuptools import setup, find_packages

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent / 'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = ['3.10', '3.11', '3.12', '3.13']
min_python = cfg['min_python']
lic = licenses[cfg['license']]

def reqs(key):
    "Space-separated requirement specifiers of `key`; each must be a valid PEP 508 string."
    return cfg.get(key, '').split()

console = [l.strip() for l in cfg.get('console_scripts', '').splitlines() if l.strip()]

setup(
    name=cfg['lib_name'].replace('_', '-'),
    version=cfg['version'],
    description=cfg['description'],
    long_description=(Path(__file__).parent / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    author=cfg['author'], author_email=cfg['author_email'],
    license=lic[0],
    url=cfg['git_url'],
    classifiers=[f'Development Status :: {statuses[int(cfg["status"]) - 1]}',
                 f'Intended Audience :: {cfg["audience"].title()}',
                 f'License :: {lic[1]}',
                 f'Natural Language :: {cfg["language"].title()}'] +
                [f'Programming Language :: Python :: {v}' for v in py_versions[py_versions.index(min_python):]],
    keywords=cfg['keywords'],
    packages=find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']),
    include_package_data=True,
    python_requires='>=' + min_python,
    install_requires=reqs('requirements'),
    extras_require={'dev': reqs('dev_requirements'), 'tensorboard': reqs('tensorboard_requirements'),
                    'demo': reqs('demo_requirements'),
                    'jupyter': reqs('jupyter_requirements')},
    entry_points={'console_scripts': console, 'nbdev': [f'{cfg["lib_path"]}={cfg["lib_path"]}._modidx:d']},
    zip_safe=False,
)
