#!/usr/bin/env bash
# One entry point for a fresh machine: restores the local tools and packages, then runs the task.
#   ./build.sh demo    run the demo: a server and clients on loopback
#   ./build.sh test    build everything and run every test project; ends with "N passed, N failed, N skipped"
#   ./build.sh soak    the long checks CI skips, and every property with ASYNCNET_SOAK_FACTOR (default 100) times its cases
#   ./build.sh mutate [Core|Streams] [stryker options]   mutation testing (see MUTATION.md); not run by CI
#   ./build.sh bench   run the benchmarks (see bench/README.md for arguments)
#   ./build.sh pack    build deterministically and write every package (.nupkg, .snupkg, the asyncnet tool) to artifacts/
set -euo pipefail
cd "$(dirname "$0")"
# Paket's feed comes from this machine's own NuGet configuration, so no feed address is pinned here.
if [ -z "${ASYNCNET_NUGET_FEED:-}" ]; then
  ASYNCNET_NUGET_FEED=$(dotnet nuget list source --format short | awk '$1 == "E" { print $2; exit }')
  export ASYNCNET_NUGET_FEED
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null

task="${1:-test}"
[ $# -gt 0 ] && shift
case "$task" in
  test)
    log=$(mktemp)
    status=0
    # --blame-hang-timeout bounds a hung test: the host is dumped and killed instead of stalling CI.
    # The soak checks (Category=Soak) are for ./build.sh soak only.
    dotnet test AsyncNet.sln -c Release --blame-hang-timeout 4m --filter "Category!=Soak" "$@" 2>&1 | tee "$log" || status=$?
    # VSTest prints one "Passed!/Failed!  - Failed: F, Passed: P, Skipped: S, Total: T" line per project.
    summary=$(grep -E '(Passed|Failed)!  - Failed:' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\1 \2 \3/' \
      | awk '{ f += $1; p += $2; s += $3; n++ } END { printf "%d %d %d %d", p, f, s, n }')
    read -r passed failed skipped projects <<<"$summary"
    expected=$(ls tests/*/*.??proj | wc -l)
    rm -f "$log"
    if [ "$projects" -ne "$expected" ]; then
      echo "only $projects of $expected test projects reported results" >&2
      failed=$((failed + expected - projects)); status=1
    fi
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ] && [ "$status" -eq 0 ] || exit 1
    ;;
  pack)
    # The version is the file `version`'s, for every package. A library is a project with a paket.template: paket pack
    # makes its .nupkg (dependencies from paket.references and paket.dependencies, sibling libraries pinned to this
    # version); dotnet pack makes what paket pack cannot: its .snupkg and the DotnetTool package of tools/AsyncNet.Cli.
    # --no-build packs what the last build left (the package test uses it: `dotnet test` has just built).
    # ASYNCNET_ARTIFACTS overrides the output folder, ASYNCNET_CONFIGURATION the configuration (Release).
    out="${ASYNCNET_ARTIFACTS:-$PWD/artifacts}"
    config="${ASYNCNET_CONFIGURATION:-Release}"
    version=$(tr -d '[:space:]' < version)
    if [ "${1:-}" != "--no-build" ]; then
      # ContinuousIntegrationBuild: deterministic, with source paths mapped to /_/ in the PDBs.
      dotnet build AsyncNet.sln -c "$config" -p:ContinuousIntegrationBuild=true
    fi
    rm -rf "$out" && mkdir -p "$out"
    dotnet paket pack --build-config "$config" --version "$version" --interproject-references fix "$out"
    symbols=$(mktemp -d)
    for template in */paket.template; do
      dotnet pack "$(dirname "$template")" -c "$config" --no-build --no-restore -o "$symbols" -v quiet
    done
    mv "$symbols"/*.snupkg "$out"/ && rm -rf "$symbols"
    dotnet pack tools/AsyncNet.Cli -c "$config" --no-build --no-restore -o "$out" -v quiet
    ls -1 "$out"
    ;;
  soak)
    # Every FsCheck property runs ASYNCNET_SOAK_FACTOR times its cases (each within ASYNCNET_SOAK_PROPERTY_SECONDS),
    # then the soak checks run: 1 GiB through random chunking, connect/abort cycles, slow and never-reading peers.
    export ASYNCNET_SOAK_FACTOR="${ASYNCNET_SOAK_FACTOR:-100}"
    export ASYNCNET_SOAK_PROPERTY_SECONDS="${ASYNCNET_SOAK_PROPERTY_SECONDS:-15}"
    export ASYNCNET_SOAK_REPORT
    ASYNCNET_SOAK_REPORT=$(mktemp)
    echo "soak: property cases x$ASYNCNET_SOAK_FACTOR, at most ${ASYNCNET_SOAK_PROPERTY_SECONDS} s of cases per property"
    dotnet build AsyncNet.sln -c Release
    status=0
    log=$(mktemp)
    dotnet test tests/AsyncNet.Properties.Tests -c Release --no-build --blame-hang-timeout 10m \
      --logger "console;verbosity=detailed" "$@" 2>&1 | tee -a "$log" || status=1
    dotnet test tests/AsyncNet.Streams.Tests -c Release --no-build --blame-hang-timeout 10m --filter "Category=Soak" \
      --logger "console;verbosity=normal" "$@" 2>&1 | tee -a "$log" || status=1
    echo "soak: what ran"
    # Each test with its time; each property with FsCheck's count ("Ok, passed 20000 tests (35% trivial)": the cases
    # past the property's time budget pass as trivial).
    grep -E '^\s+(Passed|Failed|Skipped) |^ ?(Ok, passed|Falsifiable)' "$log" | sed -E 's/^\s+(Passed|Failed|Skipped)/  \1/; s/^ ?(Ok|Falsifiable)/      \1/' || true
    cat "$ASYNCNET_SOAK_REPORT"
    grep -E '(Passed|Failed)!  - Failed:' "$log" || true
    rm -f "$log" "$ASYNCNET_SOAK_REPORT"
    [ "$status" -eq 0 ] || exit 1
    ;;
  mutate)
    # Stryker.NET over one library with the C# tests of that library and the F# properties, which exercise it too.
    # Stryker refuses test projects when it runs beside a solution file, so it runs from the library's folder.
    # Pass Stryker's own options after the project, e.g. --mutate '**/Framing/Codec/*.cs' to score one folder.
    project="${1:-Streams}"
    [ $# -gt 0 ] && shift
    case "$project" in
      Core|AsyncNet.Core) library=AsyncNet.Core; tests=(tests/AsyncNet.Core.Tests/AsyncNet.Core.Tests.csproj) ;;
      Streams|AsyncNet.Streams) library=AsyncNet.Streams; tests=(tests/AsyncNet.Streams.Tests/AsyncNet.Streams.Tests.csproj) ;;
      *) echo "usage: ./build.sh mutate [Core|Streams] [stryker options]" >&2; exit 2 ;;
    esac
    tests+=(tests/AsyncNet.Properties.Tests/AsyncNet.Properties.Tests.fsproj)
    args=()
    for t in "${tests[@]}"; do args+=(--test-project "../$t"); done
    cd "$library"
    dotnet stryker --config-file ../stryker-config.json --skip-version-check --output "../StrykerOutput/$library" "${args[@]}" "$@"
    ;;
  demo) dotnet run --project tools/AsyncNet.Cli -c Release -- demo "$@" ;;
  bench) dotnet run --project bench/AsyncNet.Benchmarks -c Release -- "$@" ;;
  *) echo "usage: ./build.sh test|soak|mutate|demo|bench|pack [args]" >&2; exit 2 ;;
esac
