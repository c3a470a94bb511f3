/*
 * TEST-ONLY shim for running tcpcraft's Windows build under Wine 8 (Debian 12). NEVER SHIPPED: the installer
 * and every package leave it out; scripts/windows-check.sh copies it next to the .exe only for the Wine run.
 *
 * Why: Rust's std on Windows gets its random numbers from ProcessPrng in bcryptprimitives.dll, which every
 * Windows 10+ has, but Wine 8 has no bcryptprimitives.dll at all, so any Rust .exe fails to load there.
 * This DLL exports ProcessPrng and fills the buffer with RtlGenRandom (advapi32's SystemFunction036), which
 * Wine implements with the host's random source.
 */
#include <windows.h>

/* RtlGenRandom's real name; advapi32 exports it, the headers only declare it under that name with ntsecapi.h. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* ProcessPrng: fill `data` with `len` random bytes; like Windows' own, it always returns TRUE. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            /* Windows' ProcessPrng never fails; a test shim that cannot get randomness must not pretend. */
            ExitProcess(99);
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
