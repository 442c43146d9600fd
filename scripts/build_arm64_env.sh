#!/usr/bin/env bash
# Kept for old instructions: the ARM64 environment is built by the package itself.
exec trm-edge setup arm64 "$@"
