//! What a store can fail with.

/// Why a store could not be opened, read or written. Each variant says where and what; none
/// holds a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The location is not one the store understands (not `sqlite:…`, nor a path).
    #[error("`{location}` is not a database location: give a file path or a sqlite: URL")]
    Location {
        /// What was given.
        location: String,
    },
    /// The file exists but is not a database the store can use (not SQLite, or damaged).
    #[error("{location} is not a database (or it is damaged)")]
    NotADatabase {
        /// Where.
        location: String,
    },
    /// The database cannot be written: a read-only file or folder.
    #[error("{location} is read-only: the store needs to write it")]
    ReadOnly {
        /// Where.
        location: String,
    },
    /// Another process held the database past the lock timeout.
    #[error("{location} is locked by another process (waited {waited_secs} s)")]
    Locked {
        /// Where.
        location: String,
        /// How long this one waited.
        waited_secs: u64,
    },
    /// The database cannot be opened or created (a missing folder, no permission...).
    #[error("cannot open {location}: {reason}")]
    Open {
        /// Where.
        location: String,
        /// Why, as the database said it.
        reason: String,
    },
    /// The database was written by a newer version of this library: its schema is ahead.
    #[error(
        "{location} has schema version {found}, newer than this version of inbox knows ({supported}): upgrade inbox to use it"
    )]
    NewerSchema {
        /// Where.
        location: String,
        /// The newest migration applied to it.
        found: i64,
        /// The newest migration this version knows.
        supported: i64,
    },
    /// Bringing the schema up to date failed.
    #[error("cannot bring the schema of {location} up to date: {reason}")]
    Migrate {
        /// Where.
        location: String,
        /// Why.
        reason: String,
    },
    /// A read or a write failed.
    #[error("database error ({what})")]
    Database {
        /// What was being done.
        what: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A stored row could not be read back (a value of the wrong shape).
    #[error("stored {what} is damaged: {reason}")]
    Damaged {
        /// Which row or column.
        what: String,
        /// What is wrong.
        reason: String,
    },
}

impl StoreError {
    /// A driver error met while doing `what`, classified where the database says why
    /// (locked, read-only, not a database).
    pub(crate) fn db(
        what: &'static str,
        location: &str,
        source: sqlx::Error,
        backend: crate::Backend,
    ) -> Self {
        if backend != crate::Backend::Sqlite {
            return StoreError::Database { what, source };
        }
        if matches!(source, sqlx::Error::PoolTimedOut) {
            // The writer's connection (one per process) stayed taken past the lock timeout:
            // the same wait as for another process's lock.
            return StoreError::Locked {
                location: location.to_owned(),
                waited_secs: 0,
            };
        }
        match Code::of(&source) {
            Some(Code::NotADatabase) => StoreError::NotADatabase {
                location: location.to_owned(),
            },
            Some(Code::ReadOnly) => StoreError::ReadOnly {
                location: location.to_owned(),
            },
            Some(Code::Busy) => StoreError::Locked {
                location: location.to_owned(),
                waited_secs: 0,
            },
            Some(Code::CannotOpen) | None => StoreError::Database { what, source },
        }
    }
}

/// The SQLite result codes the store tells apart (primary codes: an extended code's low
/// byte).
enum Code {
    Busy,
    ReadOnly,
    CannotOpen,
    NotADatabase,
}

impl Code {
    fn of(error: &sqlx::Error) -> Option<Code> {
        let sqlx::Error::Database(db) = error else {
            return None;
        };
        let code: i64 = db.code()?.parse().ok()?;
        match code & 0xff {
            5 | 6 => Some(Code::Busy),
            8 => Some(Code::ReadOnly),
            14 => Some(Code::CannotOpen),
            26 => Some(Code::NotADatabase),
            _ => None,
        }
    }
}
