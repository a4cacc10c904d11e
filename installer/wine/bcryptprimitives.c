#include <windows.h>
#include <ntsecapi.h>
/* Wine 8 lacks bcryptprimitives.dll, which Rust's std (1.78+) imports for ProcessPrng. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) return FALSE;
        data += chunk; len -= chunk;
    }
    return TRUE;
}
