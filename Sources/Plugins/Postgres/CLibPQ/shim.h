#include <libpq-fe.h>

#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>

/* An anonymous in-memory file (memfd_create), for the password file libpq's tools read: Glibc declares
   memfd_create only under _GNU_SOURCE, which Swift's Glibc module does not set. -1 where unavailable. */
static inline int backup_memfd_create(const char *name) {
#ifdef SYS_memfd_create
    return (int)syscall(SYS_memfd_create, name, 1u /* MFD_CLOEXEC */);
#else
    return -1;
#endif
}
#endif
