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
    // ExecuTorch runtime (XNNPACK backend included); the version is set in gradle.properties.
    implementation("org.pytorch:executorch-android:${property("executorchAndroidVersion")}")
    implementation("androidx.appcompat:appcompat:1.7.0")
}
