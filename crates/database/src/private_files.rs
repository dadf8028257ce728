//! Files that hold secrets (a SQLite database of password hashes and, on the issuer, private
//! keys; a private key file) are for their owner alone: what this process creates is made so
//! whatever the umask, and an existing file that others may read is refused, naming it, rather
//! than used.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Why a file that must be private cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ExposedFile {
    #[error(
        "{path} may be read or written by users other than its owner (mode {mode:o}); \
         run `chmod 600 {path}`"
    )]
    Exposed { path: String, mode: u32 },
    #[error("cannot prepare {path}: {cause}")]
    Io { path: String, cause: io::Error },
}

/// Refuses a file that group or others may access; a missing file is not this check's business.
pub fn check(path: &Path) -> Result<(), ExposedFile> {
    match fs::metadata(path) {
        Ok(metadata) => {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 == 0 {
                Ok(())
            } else {
                Err(ExposedFile::Exposed {
                    path: path.display().to_string(),
                    mode,
                })
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(cause) => Err(io_error(path, cause)),
    }
}

/// Makes `path`'s folder (0700, when this creates it) and the file itself (0600, when this
/// creates it), and refuses an existing one that others may access, so that SQLite, which
/// gives its `-wal` and `-shm` files the database's mode, only ever opens a private file.
pub fn prepare_sqlite_file(path: &Path) -> Result<(), ExposedFile> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !folder.exists()
    {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(|cause| io_error(folder, cause))?;
    }
    let created = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(cause) => return Err(io_error(path, cause)),
    }
    for companion in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(companion);
        check(Path::new(&name))?;
    }
    Ok(())
}

fn io_error(path: &Path, cause: io::Error) -> ExposedFile {
    ExposedFile::Io {
        path: path.display().to_string(),
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_database_gets_a_private_folder_and_file_and_an_exposed_one_is_refused_by_name() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("data/nested/issuer.db");
        prepare_sqlite_file(&path).unwrap();
        assert_eq!(mode(&root.path().join("data/nested")), 0o700);
        assert_eq!(mode(&path), 0o600);
        prepare_sqlite_file(&path).expect("a private file is taken again");

        for (file, exposed) in [
            ("issuer.db", 0o644),
            ("issuer.db-wal", 0o640),
            ("issuer.db-shm", 0o606),
        ] {
            let target = root.path().join("data/nested").join(file);
            fs::write(&target, b"").unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(exposed)).unwrap();
            let refused = prepare_sqlite_file(&path).unwrap_err().to_string();
            assert!(refused.contains(&target.display().to_string()), "{refused}");
            assert!(refused.contains("chmod 600"), "{refused}");
            fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        }
        prepare_sqlite_file(&path).unwrap();
    }

    #[test]
    fn a_missing_file_passes_the_check_and_a_group_readable_one_does_not() {
        let root = tempfile::tempdir().unwrap();
        let key = root.path().join("key.pem");
        check(&key).unwrap();
        fs::write(&key, b"-----BEGIN PRIVATE KEY-----").unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            check(&key),
            Err(ExposedFile::Exposed { mode: 0o640, .. })
        ));
        fs::set_permissions(&key, fs::Permissions::from_mode(0o400)).unwrap();
        check(&key).unwrap();
    }
}
