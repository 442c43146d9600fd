// Plain Java library: puzzle codecs, metadata parsing and the halting loop. No Android dependency,
// so its tests also run with javac + JUnit alone (see run_tests.sh).
plugins {
    `java-library`
}
java {
    sourceCompatibility = JavaVersion.VERSION_11
    targetCompatibility = JavaVersion.VERSION_11
}
dependencies {
    testImplementation("junit:junit:4.13.2")
}
