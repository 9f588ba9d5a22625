//! WASI preview1 (`wasi_snapshot_preview1`) as imports: every function with
//! its core Wasm signature, written from the preview1 witx.

use wasmparser::ValType;

use super::{Import, Signature};

/// The import module of WASI preview1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// Every preview1 function: name, parameter types, result types
/// (`i` is `i32`, `I` is `i64`).
const FUNCTIONS: [(&str, &str, &str); 46] = [
    ("args_get", "ii", "i"),
    ("args_sizes_get", "ii", "i"),
    ("environ_get", "ii", "i"),
    ("environ_sizes_get", "ii", "i"),
    ("clock_res_get", "ii", "i"),
    ("clock_time_get", "iIi", "i"),
    ("fd_advise", "iIIi", "i"),
    ("fd_allocate", "iII", "i"),
    ("fd_close", "i", "i"),
    ("fd_datasync", "i", "i"),
    ("fd_fdstat_get", "ii", "i"),
    ("fd_fdstat_set_flags", "ii", "i"),
    ("fd_fdstat_set_rights", "iII", "i"),
    ("fd_filestat_get", "ii", "i"),
    ("fd_filestat_set_size", "iI", "i"),
    ("fd_filestat_set_times", "iIIi", "i"),
    ("fd_pread", "iiiIi", "i"),
    ("fd_prestat_get", "ii", "i"),
    ("fd_prestat_dir_name", "iii", "i"),
    ("fd_pwrite", "iiiIi", "i"),
    ("fd_read", "iiii", "i"),
    ("fd_readdir", "iiiIi", "i"),
    ("fd_renumber", "ii", "i"),
    ("fd_seek", "iIii", "i"),
    ("fd_sync", "i", "i"),
    ("fd_tell", "ii", "i"),
    ("fd_write", "iiii", "i"),
    ("path_create_directory", "iii", "i"),
    ("path_filestat_get", "iiiii", "i"),
    ("path_filestat_set_times", "iiiiIIi", "i"),
    ("path_link", "iiiiiii", "i"),
    ("path_open", "iiiiiIIii", "i"),
    ("path_readlink", "iiiiii", "i"),
    ("path_remove_directory", "iii", "i"),
    ("path_rename", "iiiiii", "i"),
    ("path_symlink", "iiiii", "i"),
    ("path_unlink_file", "iii", "i"),
    ("poll_oneoff", "iiii", "i"),
    ("proc_exit", "i", ""),
    ("proc_raise", "i", "i"),
    ("sched_yield", "", "i"),
    ("random_get", "ii", "i"),
    ("sock_accept", "iii", "i"),
    ("sock_recv", "iiiiii", "i"),
    ("sock_send", "iiiii", "i"),
    ("sock_shutdown", "ii", "i"),
];

/// Every WASI preview1 function as an import that generators do not call
/// (their effects on files are the isolation oracle's business, not the
/// differential's).
pub fn imports() -> Vec<Import> {
    let types = |codes: &str| codes.chars().map(|code| if code == 'I' { ValType::I64 } else { ValType::I32 }).collect();
    FUNCTIONS
        .iter()
        .map(|(name, params, results)| Import {
            module: MODULE,
            name,
            signature: Signature { params: types(params), results: types(results) },
            for_generators: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_signatures_return_an_errno_but_proc_exit() {
        let imports = imports();
        let names: std::collections::BTreeSet<&str> = imports.iter().map(|import| import.name).collect();
        assert_eq!(names.len(), FUNCTIONS.len());
        for import in &imports {
            let expected: &[ValType] = if import.name == "proc_exit" { &[] } else { &[ValType::I32] };
            assert_eq!(import.signature.results, expected, "{}", import.name);
        }
    }
}
