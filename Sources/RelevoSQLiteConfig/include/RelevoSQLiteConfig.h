#ifndef RELEVO_SQLITE_CONFIG_H
#define RELEVO_SQLITE_CONFIG_H

#include <sqlite3.h>

/// Turns off SQLite's memory statistics for the whole process. Debian's SQLite keeps them on, so every
/// allocation SQLite makes (and, built without lookaside, it makes many per event written) takes a
/// process-wide mutex and asks malloc for the block's size; Relevo never reads those statistics.
/// Effective only before SQLite is initialized (before the first connection opens); later it changes
/// nothing and returns SQLITE_MISUSE. `sqlite3_config` is variadic, which Swift cannot call.
int relevo_sqlite_disable_memory_statistics(void);

/// The first region of the WAL index of `connection`'s main database, as SQLite itself maps it, or
/// NULL when there is none (not in WAL mode, no shared memory, a VFS without it).
///
/// Asked of SQLite's own file object (`SQLITE_FCNTL_FILE_POINTER`, then its `xShmMap`), so no
/// descriptor of the `-shm` file is opened or closed behind SQLite's back: closing one would drop
/// every POSIX lock the process holds on that file, SQLite's included, and let another process
/// reset the index while this one has it mapped (a SIGBUS here, a corrupt database at worst).
/// The region stays mapped while any connection of this process to the database is open.
const void *relevo_sqlite_wal_index(sqlite3 *connection);

#endif
