# Thin aliases for the scripts in tools/ (which need only bash, Python 3.10+ and git).
.PHONY: test train smoke lab demo bench setup gpu-check
setup: ; bash -c 'source tools/setup.sh'
test: ; bash tools/test
train: ; bash tools/train $(ARGS)
smoke: ; bash tools/smoke
lab: ; bash tools/lab $(ARGS)
demo: ; bash tools/demo $(ARGS)
bench: ; bash -c 'source tools/setup.sh && python -m cifar_resnet.bench data && python -m cifar_resnet.bench train && python -m cifar_resnet.bench evaluate'
gpu-check: ; bash tools/gpu-check $(or $(OUT),gpu-report) $(ARGS)
