#!/usr/bin/env bash
# Proof by consumption: packs every package into a temporary folder and uses them as a new user would.
#   - the packages: each one present, at most 250 MB (nuget.org's limit), with its metadata, README and symbol package;
#     the scoring library without TorchSharp; the same bytes from a second checkout (deterministic build)
#   - the tool: 'dotnet tool install' from that folder into a temporary --tool-path (timed), then the installed
#     'mlpipeline' writes MNIST digits as PNGs, scores them, trains a tiny model, exports it (verified) and scores with it
#   - the console app in this folder (PackageReference MlPipeline, restored from that folder only) scores the same
#     digits and must print what the tool printed
#   - the app in ../MlPipeline.PackageConsumer.Training, built against MlPipeline.Training the same way, trains a tiny
#     model on the digits, exports it, proves the export and scores with it
# Every check prints "ok" or "FAIL"; the last line is "packages: N passed, M failed". Exit 1 when a check failed.
# Usage: tests/MlPipeline.PackageConsumer/check-packages.sh [WORK_FOLDER]   (default: a new temporary folder, deleted)
# Environment: MLPIPELINE_NUGET_SOURCE, the feed for everything else (default https://api.nuget.org/v3/index.json).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Two runs would pack into the same bin/ and obj/ folders at once: the second waits for the first.
exec 9<"$here/check-packages.sh"
if ! flock -n 9; then
  echo "check-packages: another run is packing this repository; waiting for it" >&2
  flock 9
fi

if [ $# -gt 0 ]; then
  work=$1
  mkdir -p "$work" || exit 1
  [ -z "$(ls -A "$work")" ] || { echo "check-packages: '$work' is not empty; give a new or empty folder" >&2; exit 2; }
else
  work=$(mktemp -d /tmp/mlpipeline-packages-XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
work=$(cd "$work" && pwd)
packages=$work/packages
feed=${MLPIPELINE_NUGET_SOURCE:-https://api.nuget.org/v3/index.json}

passed=0
failed=0
check() { # check NAME COMMAND...: runs the command, counts and prints the outcome
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok    $name"
  else
    failed=$((failed + 1))
    echo "FAIL  $name"
  fi
}
seconds_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
finish() {
  echo "packages: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

version=$(cd "$root" && dotnet msbuild src/MlPipeline/MlPipeline.csproj -getProperty:PackageVersion 2>/dev/null | tr -d '[:space:]')
echo "version $version (Directory.Build.props), work folder $work"

# ---- pack ---------------------------------------------------------------------------------------------------------
start=$(date +%s.%N)
# Built anew (--no-incremental): a Release build made earlier without ContinuousIntegrationBuild (the notebooks publish
# the tool) would otherwise be taken as up to date, with its unmapped source paths, and differ from a second checkout.
pack() {
  (cd "$root" && dotnet build MlPipeline.sln -c Release --no-incremental -p:ContinuousIntegrationBuild=true -v quiet -nologo &&
    dotnet pack MlPipeline.sln -c Release -o "$packages" -p:ContinuousIntegrationBuild=true -v quiet -nologo) > "$work/pack.log" 2>&1
}
if ! check "dotnet pack MlPipeline.sln" pack; then
  tail -30 "$work/pack.log"
  finish
fi
echo "      packed in $(seconds_since "$start") s"

libraries="MlPipeline MlPipeline.Datasets MlPipeline.Training MlPipeline.Reporting"
tools="MlPipeline.Cli.linux-x64 MlPipeline.Cli.win-x64 MlPipeline.Cli.osx-arm64"
limit=$((250 * 1000 * 1000)) # nuget.org refuses packages over 250 MB
for id in $libraries MlPipeline.Cli $tools; do
  file=$packages/$id.$version.nupkg
  size_ok() { [ -f "$file" ] && [ "$(stat -c %s "$file")" -le "$limit" ]; }
  check "$id.$version.nupkg ($( [ -f "$file" ] && awk -v b="$(stat -c %s "$file")" 'BEGIN { printf "%.1f MB", b / 1e6 }' || echo missing)) at most 250 MB" size_ok
done
for id in $libraries $tools; do
  check "$id.$version.snupkg (symbols)" test -s "$packages/$id.$version.snupkg"
done

metadata_complete() { # the nuspec names everything nuget.org shows, and the README it names is in the package
  local file=$packages/$1.$version.nupkg nuspec
  nuspec=$(unzip -p "$file" "$1.nuspec") || return 1
  for pattern in "<version>$version</version>" '<license type="expression">MIT</license>' '<readme>README.md</readme>' \
    '<description>.{20,}</description>' '<tags>.+</tags>' '<projectUrl>https://' '<repository type="git" url="https://[^"]+" commit="[0-9a-f]{40}"'; do
    grep -qE "$pattern" <<<"$nuspec" || { echo "      $1: the nuspec lacks $pattern"; return 1; }
  done
  unzip -p "$file" README.md | grep -q "^# " || { echo "      $1: README.md missing or empty"; return 1; }
}
for id in $libraries MlPipeline.Cli $tools; do
  check "$id: license, README, description, tags, repository and commit" metadata_complete "$id"
done

no_torch_dependency() { ! unzip -p "$packages/MlPipeline.$version.nupkg" MlPipeline.nuspec | grep -qiE '<dependency id="[^"]*torch'; }
check "MlPipeline's dependencies do not include TorchSharp" no_torch_dependency

same_build_from_second_checkout() {
  # what MlPipeline's package is built from
  local inputs="src/MlPipeline onnx Directory.Build.props Directory.Packages.props global.json .editorconfig"
  if [ -n "$(cd "$root" && git status --porcelain -- $inputs)" ]; then
    echo "      uncommitted changes in $inputs: a second checkout of HEAD would build something else; commit, then rerun"
    return 1
  fi
  git clone -q "$root" "$work/second-checkout" &&
    (cd "$work/second-checkout" && dotnet pack src/MlPipeline/MlPipeline.csproj -c Release -o "$work/second-packages" \
      -p:ContinuousIntegrationBuild=true -v quiet -nologo) > "$work/second-pack.log" 2>&1 || { tail -20 "$work/second-pack.log"; return 1; }
  local entry
  for entry in lib/net10.0/MlPipeline.dll lib/net10.0/MlPipeline.xml; do
    cmp -s <(unzip -p "$packages/MlPipeline.$version.nupkg" "$entry") <(unzip -p "$work/second-packages/MlPipeline.$version.nupkg" "$entry") ||
      { echo "      $entry differs between the two checkouts"; return 1; }
  done
  cmp -s <(unzip -p "$packages/MlPipeline.$version.snupkg" lib/net10.0/MlPipeline.pdb) \
    <(unzip -p "$work/second-packages/MlPipeline.$version.snupkg" lib/net10.0/MlPipeline.pdb) ||
    { echo "      MlPipeline.pdb differs between the two checkouts"; return 1; }
}
check "deterministic: a second checkout in another folder packs the same MlPipeline.dll, .xml and .pdb" same_build_from_second_checkout

# Restores take MlPipeline* from the packed folder only, everything else from the feed.
cat > "$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="packed" value="$packages" />
    <add key="feed" value="$feed" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="packed">
      <package pattern="MlPipeline" />
      <package pattern="MlPipeline.*" />
    </packageSource>
    <packageSource key="feed">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
EOF

# The tool install and the app restore into a package folder of their own: an MlPipeline package restored earlier into
# ~/.nuget/packages with the same version would otherwise be used instead of the one packed here. (Not the packing
# above: the repository's own projects keep restoring into the usual folder.)
export NUGET_PACKAGES=$work/nuget-packages

# ---- the tool -----------------------------------------------------------------------------------------------------
tool=$work/tool/mlpipeline
start=$(date +%s.%N)
install_tool() {
  dotnet tool install MlPipeline.Cli --version "$version" --tool-path "$work/tool" --configfile "$work/nuget.config" \
    > "$work/install.log" 2>&1 || { tail -20 "$work/install.log"; return 1; }
}
if ! check "dotnet tool install MlPipeline.Cli --tool-path (from the packed folder)" install_tool; then
  finish
fi
echo "      installed in $(seconds_since "$start") s ($(du -sm "$work/tool" | cut -f1) MB on disk)"

reports_version() { [ "$("$tool" --version | cut -d+ -f1)" = "$version" ]; }
check "mlpipeline --version prints $version" reports_version

digits=$work/digits
scores_digits() {
  "$tool" data png --out "$digits" --limit 300 > "$work/data.log" 2>&1 || { tail -5 "$work/data.log"; return 1; }
  "$tool" score --input "$digits" --recursive --output "$work/tool-predictions.csv" > "$work/score.log" 2>&1 || { tail -5 "$work/score.log"; return 1; }
  [ "$(tail -n +2 "$work/tool-predictions.csv" | wc -l)" -eq 300 ] || { echo "      expected 300 predictions"; return 1; }
  # the built-in model gets nearly all of the first 300 test digits right: the label is the class folder
  local right
  right=$(tail -n +2 "$work/tool-predictions.csv" | awk -F, '{ split($1, p, "/"); if (p[1] == $2) n++ } END { print n + 0 }')
  echo "      built-in model: $right of 300 right"
  [ "$right" -ge 285 ]
}
check "installed mlpipeline: data png, then score 300 digits with the built-in model" scores_digits

trains_tiny_model() {
  "$tool" train --data "$digits" --epochs 2 --threads 1 --out "$work/run" > "$work/train.log" 2>&1 || { tail -10 "$work/train.log"; return 1; }
  "$tool" export --run "$work/run" --out "$work/tiny.onnx" --verify --data "$digits" > "$work/export.log" 2>&1 || { tail -10 "$work/export.log"; return 1; }
  grep -q PASSED "$work/export.log" || { tail -5 "$work/export.log"; return 1; }
  "$tool" score --model "$work/tiny.onnx" --input "$digits" --recursive --output "$work/tiny-predictions.csv" > "$work/score-tiny.log" 2>&1 || { tail -5 "$work/score-tiny.log"; return 1; }
  [ "$(tail -n +2 "$work/tiny-predictions.csv" | wc -l)" -eq 300 ]
}
check "installed mlpipeline: train a tiny model (TorchSharp), export it (verified), score with it" trains_tiny_model

# ---- the apps -----------------------------------------------------------------------------------------------------
# Each builds where it stands under tests/ (its package version comes from Directory.Packages.props), restored through
# the nuget.config above into the package folder of this run (--force: an earlier run's restore is not reused).
app=$here
trainer=$root/tests/MlPipeline.PackageConsumer.Training
build_app() { # build_app FOLDER LOG
  { dotnet restore "$1" --configfile "$work/nuget.config" --force -v quiet && dotnet build "$1" -c Release --no-restore -nologo -v quiet; } > "$2" 2>&1 ||
    { tail -20 "$2"; return 1; }
}

start=$(date +%s.%N)
check "console app with PackageReference MlPipeline $version builds" build_app "$app" "$work/app-build.log"
echo "      restored and built in $(seconds_since "$start") s"

from_packed_folder_without_torch() {
  # a resolved package is listed as "Id/Version" (the central versions list names TorchSharp-cpu without a slash)
  grep -qiE '"torchsharp[^"]*/[0-9]' "$app/obj/project.assets.json" && { echo "      TorchSharp reached the app"; return 1; }
  # the package the app uses is the one packed here, byte for byte
  cmp -s "$packages/MlPipeline.$version.nupkg" "$NUGET_PACKAGES/mlpipeline/$version/mlpipeline.$version.nupkg"
}
check "the app uses the packed MlPipeline and does not get TorchSharp" from_packed_folder_without_torch

app_agrees_with_tool() {
  dotnet run --project "$app" -c Release --no-build -- "$digits" > "$work/app-predictions.csv" 2> "$work/app.log" || { cat "$work/app.log"; return 1; }
  cat "$work/app.log"
  cmp -s "$work/app-predictions.csv" <(tail -n +2 "$work/tool-predictions.csv" | cut -d, -f1-3 | LC_ALL=C sort) ||
    { echo "      the app's predictions differ from the tool's"; diff <(head -5 "$work/app-predictions.csv") <(tail -n +2 "$work/tool-predictions.csv" | cut -d, -f1-3 | LC_ALL=C sort | head -5); return 1; }
}
check "the app scores the digits (ScoreFolder and its own ML.NET pipeline) as the installed tool does" app_agrees_with_tool

start=$(date +%s.%N)
builds_trainer() {
  build_app "$trainer" "$work/trainer-build.log" || return 1
  # the backbone package's build step put the ResNet-18 files beside the app, as transfer learning expects them
  [ -s "$trainer/bin/Release/net10.0/DnnImageModels/ResNet18Onnx/ResNet18.onnx" ] || { echo "      DnnImageModels missing beside the app"; return 1; }
}
check "training app with PackageReference MlPipeline.Training $version builds (TorchSharp and the ResNet-18 files with it)" builds_trainer
echo "      restored and built in $(seconds_since "$start") s"

trainer_trains_and_exports() {
  dotnet run --project "$trainer" -c Release --no-build -- "$digits" "$work/trainer-work" > "$work/trainer.log" 2>&1 || { tail -10 "$work/trainer.log"; return 1; }
  echo "      $(tail -1 "$work/trainer.log")"
  grep -q "PASSED; scored 300 files" "$work/trainer.log"
}
check "the training app trains, exports (verified) and scores with the packages" trainer_trains_and_exports

finish
