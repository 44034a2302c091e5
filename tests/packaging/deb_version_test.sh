#!/bin/bash
# deb_version_test.sh SOURCE_DIR: the version of the newest debian/changelog entry is the
# project's (CMakeLists.txt's project(VERSION), which the binaries print), since the package is
# native and `make deb` names the .deb after the changelog's.
set -euo pipefail
src=$1
project=$(sed -n 's/^project(gardien VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
changelog=$(sed -n '1s/^gardien (\([^)]*\)).*/\1/p' "$src/debian/changelog")
[[ -n $project ]] || { echo "FAIL: no project(gardien VERSION ...) in CMakeLists.txt"; exit 1; }
[[ -n $changelog ]] || { echo "FAIL: no 'gardien (VERSION)' first line in debian/changelog"; exit 1; }
[[ $project == "$changelog" ]] ||
  { echo "FAIL: CMakeLists.txt says $project, debian/changelog says $changelog: add a changelog entry (dch -v $project)"; exit 1; }
echo "ok: version $project in CMakeLists.txt and debian/changelog"
