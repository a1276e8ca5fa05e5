#!/usr/bin/env bash
# Runs every notebook in this folder top to bottom, headlessly, with dotnet-repl (pinned in .config/dotnet-tools.json).
# First publishes the libraries (through the tool, which references all four) with their native dependencies into notebooks/lib, which the notebooks reference.
# Exits 1 when any cell fails, after printing the notebook, the failing cell and its error.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rid=$(dotnet --info | awk '/^ *RID:/ {print $2; exit}')
if ! dotnet publish ../src/MlPipeline.Cli -c Release -r "$rid" --self-contained false -o lib -v quiet; then
  echo "notebooks: publishing the library into notebooks/lib failed"
  exit 1
fi
dotnet tool restore > /dev/null || { echo "notebooks: 'dotnet tool restore' failed (dotnet-repl)"; exit 1; }

status=0
passed=0
failed=0
out=$(mktemp -d)
for notebook in [0-9]*.ipynb; do
  trx="$out/${notebook%.ipynb}.trx"
  start=$(date +%s)
  dotnet repl --run "$notebook" --exit-after-run --output-format trx --output-path "$trx" > "$out/${notebook%.ipynb}.log" 2>&1
  code=$?
  seconds=$(( $(date +%s) - start ))
  if [ "$code" -eq 0 ]; then
    echo "notebook $notebook: passed in ${seconds} s"
    passed=$((passed + 1))
    continue
  fi
  status=1
  failed=$((failed + 1))
  echo "notebook $notebook: FAILED (dotnet-repl exit $code) after ${seconds} s"
  if [ -s "$trx" ]; then
    # Each cell is a test result in the TRX file; print the failed ones with their error.
    python3 - "$trx" <<'PY' || grep -o 'testName="[^"]*"[^>]*outcome="Failed"' "$trx"
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
import re
text = open(sys.argv[1], encoding="utf-8-sig").read()
root = ET.fromstring(re.sub(r"^<\?xml[^>]*\?>", "", text))
failed = [r for r in root.iter("{%s}UnitTestResult" % ns["t"]) if r.get("outcome") == "Failed"]
for result in failed[:1]:
    message = result.find(".//t:ErrorInfo/t:Message", ns)
    print("  failing cell: " + result.get("testName", "?"))
    print("  error: " + (message.text.strip() if message is not None and message.text else "(no message)"))
if len(failed) > 1:
    print("  (%d later cells failed too)" % (len(failed) - 1))
PY
  else
    tail -n 30 "$out/${notebook%.ipynb}.log"
  fi
done
rm -rf "$out"
echo "notebooks: $passed passed, $failed failed"
exit $status
