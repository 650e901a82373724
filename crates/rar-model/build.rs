//! Links libtorch into the shared library so that a PostgreSQL backend can
//! load it: an absolute rpath to the torch lib folder (torch-sys's own does
//! not reach the final artifact), and libtorch_cuda kept in the needed list
//! (`--as-needed` would drop it, and CUDA would never register on a GPU host).
fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}
