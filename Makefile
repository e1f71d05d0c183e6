# Thin aliases for the scripts in tools/ (which need only bash, Python 3.10+ and git).
.PHONY: test train smoke demo docs setup
setup: ; bash -c 'source tools/setup.sh'
test: ; bash tools/test
train: ; bash tools/train $(ARGS)
