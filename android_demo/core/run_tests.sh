#!/usr/bin/env bash
# Compile and run the JVM unit tests of the app's model-independent core, without Gradle or the Android SDK.
# Needs a JDK (javac 11+) and JUnit 4 (Debian: apt-get install junit4 hamcrest). Skips with a message if absent.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v javac >/dev/null 2>&1; then
  echo "SKIPPED android_demo core tests: no JDK (javac) on this machine"; exit 0
fi
JUNIT=${JUNIT_JAR:-/usr/share/java/junit4.jar}
HAMCREST=${HAMCREST_JAR:-/usr/share/java/hamcrest-core.jar}
if [ ! -f "$JUNIT" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq junit4 >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq junit4 >/dev/null 2>&1) || true
fi
if [ ! -f "$JUNIT" ]; then
  echo "SKIPPED android_demo core tests: JUnit 4 not found at $JUNIT (apt-get install junit4)"; exit 0
fi
[ -f "$HAMCREST" ] || HAMCREST=$(ls /usr/share/java/hamcrest*.jar 2>/dev/null | head -1)
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
javac -d "$BUILD/main" $(find src/main/java -name '*.java')
javac -d "$BUILD/test" -cp "$BUILD/main:$JUNIT" $(find src/test/java -name '*.java')
cp -r src/test/resources/. "$BUILD/test/"
java -cp "$BUILD/main:$BUILD/test:$JUNIT:$HAMCREST" org.junit.runner.JUnitCore dev.trmedge.core.CoreTest
