// glibc's malloc tuning, which Swift's Glibc module does not import (<malloc.h>).
#ifndef RELEVO_C_MALLOC_TUNING_H
#define RELEVO_C_MALLOC_TUNING_H

/// Keeps up to `bytes` of freed memory at the top of each heap instead of returning it to the
/// kernel (M_TRIM_THRESHOLD). Returns 1 on success, 0 where unsupported or refused.
int relevo_set_malloc_trim_threshold(int bytes);

#endif
