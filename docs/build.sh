#!/usr/bin/env bash
# Builds the docs site into output/: every page in docs/ is run, and rendered with the numbers it computed.
#
#   docs/build.sh                 build the solution (Release), run each page under dotnet fsi, then fsdocs
#   DOCS_ROOT=/Functional.Autodiff/ docs/build.sh
#                                 the URL path the site is served under (default /: serve output/ itself,
#                                 e.g. python3 -m http.server -d output 8000)
#   docs/build.sh --ARG ...       extra arguments go to `dotnet fsdocs build` (all but --parameters, which
#                                 fsdocs takes once: it is given below)
#
# Needs Graphviz's dot (pages draw graphs as SVG): apt-get install -y graphviz. Without it the script stops before
# building anything, rather than publish pages without their diagrams.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dot > /dev/null 2>&1; then
  echo "docs/build.sh: Graphviz's dot is not installed; the pages draw graphs with it." >&2
  echo "  Debian/Ubuntu: apt-get install -y graphviz    macOS: brew install graphviz" >&2
  exit 1
fi

dotnet tool restore

# fsdocs builds nothing itself: it reads the XML docs and assemblies at the projects' TargetPath for the
# configuration given below. Building the solution also builds tests/Docs.Tests, which copies the libraries
# into docs/.lib for the pages (docs/.helpers/references.fsx).
dotnet build Functional.sln -c Release

# fsdocs shows an exception in a page as an empty output and goes on, even with --strict: run every page under
# dotnet fsi first, where an exception or a tutorial number that differs stops the build with its message.
for page in docs/*.fsx; do
  echo "docs/build.sh: dotnet fsi $page"
  dotnet fsi "$page" > /dev/null
done

# --clean: fsdocs regenerates only pages newer than their output, and a page's numbers change when the library does.
# .fsdocs/ caches the projects' paths; clear it so a change of configuration is seen.
rm -rf .fsdocs
root="${DOCS_ROOT:-/}"
dotnet fsdocs build \
  --eval --strict --clean \
  --properties Configuration=Release \
  --parameters fsdocs-collection-name Functional.Autodiff root "$root" \
    fsdocs-logo-src img/logo.svg fsdocs-favicon-src img/logo.svg \
    fsdocs-license-link "${root}LICENSE.txt" fsdocs-release-notes-link "${root}RELEASE_NOTES.md" \
    fsdocs-repository-link "${DOCS_REPOSITORY:-${root}README.md}" \
  "$@"

# The links of the menu: the licence, the release notes and the README as files of the site.
cp LICENSE output/LICENSE.txt
cp RELEASE_NOTES.md README.md output/

# The template writes every path from the root ("/content/…" with the default root): served over HTTP that works,
# but a page opened from disk (output/index.html) finds no style sheet and no logo. Make each such path relative to
# its page ("content/…" in output/, "../content/…" in output/reference/): right both ways, and under any root.
python3 - "$root" << 'PY'
import pathlib, re, sys
root = sys.argv[1]
for page in pathlib.Path("output").rglob("*.html"):
    up = "../" * (len(page.relative_to("output").parts) - 1) or "./"
    text = page.read_text(encoding="utf-8")
    fixed = re.sub(r'((?:href|src|data-root)=")' + re.escape(root), lambda m: m.group(1) + up, text)
    page.write_text(fixed, encoding="utf-8")
PY

# fsdocs copies every other file of docs/ into the site, this script too, and a NuGet.config of its template.
rm -f output/build.sh output/NuGet.config
echo "docs/build.sh: site in output/; to look at it: python3 -m http.server -d output 8000"
