#include "CMallocTuning.h"

#if defined(__GLIBC__)
#include <malloc.h>

int relevo_set_malloc_trim_threshold(int bytes) { return mallopt(M_TRIM_THRESHOLD, bytes); }
#else
int relevo_set_malloc_trim_threshold(int bytes) { (void)bytes; return 0; }
#endif
