#ifndef RELEVO_SQLITE_CONFIG_H
#define RELEVO_SQLITE_CONFIG_H

/// Turns off SQLite's memory statistics for the whole process. Debian's SQLite keeps them on, so every
/// allocation SQLite makes (and, built without lookaside, it makes dozens per event written) takes a
/// process-wide mutex and asks malloc for the block's size; Relevo never reads those statistics.
/// Effective only before SQLite is initialized (before the first connection opens); later it changes
/// nothing and returns SQLITE_MISUSE. `sqlite3_config` is variadic, which Swift cannot call.
int relevo_sqlite_disable_memory_statistics(void);

#endif
