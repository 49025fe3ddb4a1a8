#!/usr/bin/env bash
# Packs every project under src/ into a local folder, then consumes the packages as a new user would, outside the
# repository: a fresh C# console project (net10.0, and net8.0 run on this machine's runtime by roll-forward) and a
# fresh F# script (#r "nuget: ..."), each with a NuGet config of that folder and the registry only. Each runs the
# README's example of its language, and its output is compared with the README's "// ..." comments.
# Prints one line "N passed, N failed" (one check per consumer and per package metadata check); exits non-zero on a failure.
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
feed="$work/feed"
mkdir -p "$feed"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "pack-check: ok: $1"; }
fail() { failed=$((failed + 1)); echo "pack-check: FAILED: $1" >&2; }

version=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$repo/src/Directory.Build.props")
if grep -q "^## $version\$" "$repo/RELEASE_NOTES.md"; then pass "RELEASE_NOTES.md has a section for $version"
else fail "RELEASE_NOTES.md has no '## $version' section"; fi

# 1. Pack every project under src/.
packed=0
for project in "$repo"/src/*/*.csproj "$repo"/src/*/*.fsproj; do
  [ -e "$project" ] || continue
  if dotnet pack "$project" -c Release -o "$feed" -v quiet -nologo > "$work/pack.log" 2>&1; then
    packed=$((packed + 1))
  else
    cat "$work/pack.log" >&2; fail "dotnet pack $project"
  fi
done
ls "$feed"
nupkgs=$(ls "$feed"/*.nupkg 2> /dev/null | wc -l)
snupkgs=$(ls "$feed"/*.snupkg 2> /dev/null | wc -l)
if [ "$packed" -gt 0 ] && [ "$nupkgs" -eq "$packed" ] && [ "$snupkgs" -eq "$packed" ]; then pass "$packed packages, each with its symbols package"
else fail "$packed projects packed, $nupkgs .nupkg, $snupkgs .snupkg"; fi

# 2. The metadata a consumer sees: licence, readme, icon, both frameworks, dependencies as lower bounds only.
for nupkg in "$feed"/*.nupkg; do
  name=$(basename "$nupkg")
  nuspec=$(unzip -p "$nupkg" '*.nuspec')
  files=$(unzip -Z1 "$nupkg")
  problems=""
  for want in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<icon>icon.png</icon>' \
              "<version>$version</version>" 'targetFramework="net10.0"' 'targetFramework="net8.0"' '<tags>'; do
    printf '%s' "$nuspec" | grep -qF "$want" || problems="$problems missing $want;"
  done
  for file in README.md icon.png LICENSE lib/net10.0/ lib/net8.0/; do
    printf '%s\n' "$files" | grep -q "^$file" || problems="$problems no $file in the package;"
  done
  # An exact pin is [x] or [x, y]; a lower bound is a bare version.
  pins=$(printf '%s' "$nuspec" | grep -o 'version="\[[^"]*"' || true)
  [ -z "$pins" ] || problems="$problems pinned dependencies: $pins;"
  if [ -z "$problems" ]; then pass "$name metadata"; else fail "$name:$problems"; fi
done

# The README's example of one language: its code block, and the comments of its printing lines.
readme_block() { # $1: heading, $2: fence language
  python3 - "$repo/README.md" "$1" "$2" << 'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
after = text.split("\n" + sys.argv[2] + "\n", 1)[1]
print(after.split("```" + sys.argv[3] + "\n", 1)[1].split("\n```", 1)[0])
PY
}
# Each output line must be the comment of the matching printing line, or its start followed by ":" (a remark).
compare() { # $1: code file, $2: output file, $3: what
  python3 - "$1" "$2" "$3" << 'PY'
import sys, re
code = open(sys.argv[1], encoding="utf-8").read().splitlines()
out = [l.rstrip() for l in open(sys.argv[2], encoding="utf-8").read().splitlines() if l.strip()]
want = [l.split("//")[-1].strip() for l in code if re.search(r"Console\.WriteLine|printfn", l) and "//" in l]
ok = len(out) == len(want) and all(w == o or w.startswith(o + ":") for w, o in zip(want, out))
if not ok:
    print(f"{sys.argv[3]}: the output differs from the README's comments", file=sys.stderr)
    for i in range(max(len(want), len(out))):
        print(f"  README: {want[i] if i < len(want) else '-'}\n  output: {out[i] if i < len(out) else '-'}", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# The consumers get a package cache of their own: the packages just made are never confused with an older build of
# the same version in the user's cache, and every other package comes from the registry as for a new user.
export NUGET_PACKAGES="$work/packages"
cat > "$work/NuGet.Config" << XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="registry" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML

# 3. A fresh C# console project, outside the repository, on the packages from the folder.
readme_block "## Example (C#)" csharp > "$work/example.cs"
for tfm in net10.0 net8.0; do
  app="$work/csharp-$tfm"
  mkdir -p "$app" && cp "$work/NuGet.Config" "$app/"
  ( cd "$app" && dotnet new console --framework net10.0 -n App -o . > /dev/null \
    && sed -i "s:<TargetFramework>net10.0</TargetFramework>:<TargetFramework>$tfm</TargetFramework>:" App.csproj \
    && cp "$work/example.cs" Program.cs \
    && dotnet add package Functional.Autodiff --version "$version" > "$work/add.log" 2>&1 \
    && dotnet build -c Release -v quiet -nologo -p:TreatWarningsAsErrors=true > "$work/build.log" 2>&1 ) \
    || { cat "$work/add.log" "$work/build.log" >&2 2> /dev/null; fail "C# console ($tfm) builds on Functional.Autodiff $version"; continue; }
  asset=$(grep -o "lib/$tfm/Functional.Autodiff.dll" "$app/obj/project.assets.json" | head -n 1)
  # net8.0: this machine has only the .NET 10 runtime, so the net8.0 build runs on it by roll-forward.
  if ( cd "$app" && DOTNET_ROLL_FORWARD=Major dotnet "bin/Release/$tfm/App.dll" > "$work/cs.out" 2>&1 ) \
     && [ -n "$asset" ] && compare "$work/example.cs" "$work/cs.out" "C# ($tfm)"; then
    pass "C# console ($tfm, $asset) prints the README's numbers"
  else cat "$work/cs.out" >&2; fail "C# console ($tfm)"; fi
done

# 4. A fresh F# script, outside the repository, with the README's lines for scripts.
script="$work/fsharp/example.fsx"
mkdir -p "$(dirname "$script")" && cp "$work/NuGet.Config" "$(dirname "$script")/"
{ printf '#i "nuget: %s"\n#r "nuget: Functional.Autodiff.FSharp, %s"\n' "$feed" "$version"
  readme_block "## Example (F#)" fsharp; } > "$script"
if ( cd "$(dirname "$script")" && dotnet fsi --quiet "$script" > "$work/fs.out" 2>&1 ) \
   && compare "$script" "$work/fs.out" "F# script"; then
  pass "F# script (#r \"nuget: Functional.Autodiff.FSharp\") prints the README's numbers"
else cat "$work/fs.out" >&2; fail "F# script"; fi

echo "pack-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
