plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "dev.trmedge.demo"
    compileSdk = 34
    defaultConfig {
        applicationId = "dev.trmedge.demo"
        minSdk = 26
        targetSdk = 34
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "x86_64") }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_11
        targetCompatibility = JavaVersion.VERSION_11
    }
    kotlinOptions { jvmTarget = "11" }
    androidResources { noCompress += listOf("pte", "f32") }
}

dependencies {
    implementation(project(":core"))
    // ExecuTorch runtime with the XNNPACK backend; keep it at the version trm-edge exported with
    // (metadata.json -> tool_versions.executorch).
    implementation("org.pytorch:executorch-android:1.0.0")
    implementation("com.facebook.soloader:soloader:0.10.5")
    implementation("com.facebook.fbjni:fbjni:0.5.1")
    implementation("androidx.appcompat:appcompat:1.7.0")
}
