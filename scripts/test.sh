#!/usr/bin/env bash
# Runs every check of the project: installs what the tests need, then formatting, lints,
# all tests (unit, store, end-to-end against the real binary, official SDK) and a
# seconds-long smoke run of every benchmark scenario.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v go >/dev/null 2>&1 || need_apt+=(golang-go)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
[ -x /usr/bin/python3 ] || need_apt+=(python3)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
for tool in skopeo umoci docker-registry slirp4netns; do command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool"); done
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "== installing ${need_apt[*]}"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null; fi
fi
if ! python3 -c "import huaweicloudsdkfunctiongraph" >/dev/null 2>&1; then
    echo "== installing the official FunctionGraph Python SDK"
    python3 -m pip install -q --disable-pip-version-check huaweicloudsdkfunctiongraph
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace --all-targets
echo "== benchmark smoke run"
cargo run --release -p stratus-bench -- --smoke
echo "== all checks passed"
