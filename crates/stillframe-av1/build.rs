//! Tells whoever builds the default backend without `asm` that decoding is slow.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let enabled = |feature: &str| std::env::var_os(format!("CARGO_FEATURE_{feature}")).is_some();
    if enabled("RAV1D") && !enabled("ASM") {
        println!(
            "cargo:warning=stillframe-av1: rav1d is built without its assembly, so AV1 decoding \
             is 6-10x slower. Install nasm and enable the `asm` feature (stillframe-av1/asm, \
             or `--features asm` on stillframe and stillframe-cli) for full speed."
        );
    }
}
