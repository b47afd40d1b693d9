# Sourced by ./kiln and ./run-tests: sets and exports JAVA_HOME to a JDK 25 or newer, taken from
# JAVA_HOME if it is one, else from /usr/lib/jvm; stops with a clear message when there is none.
# $1 names the calling script in messages.

kiln_java_major() {
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java.specification.version = //p'
}

kiln_find_java_home() {
    local candidate major
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
        major=$(kiln_java_major "$candidate")
        if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! JAVA_HOME=$(kiln_find_java_home); then
    echo "$1: Kiln needs a JDK 25 or newer; none found in JAVA_HOME or /usr/lib/jvm." >&2
    echo "$1: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
    exit 1
fi
export JAVA_HOME
