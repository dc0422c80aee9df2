// ntl_oracle.cpp: NTL-backed oracles declared in oracles.h. The negacyclic product is
// computed in NTL's ZZ_pX (arbitrary-precision coefficients, its own FFT/Karatsuba
// multiplication), a route that shares no code with hekv's NTT. Test-only code.
#include "oracles.h"

#include <NTL/ZZ.h>
#include <NTL/ZZ_p.h>
#include <NTL/ZZ_pX.h>

#include <exception>
#include <vector>

namespace {

// Little-endian byte strings: independent of the width of long.
NTL::ZZ zz_from_u64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = static_cast<unsigned char>(v >> (8 * i));
    return NTL::ZZFromBytes(b, 8);
}

uint64_t u64_from_zz(const NTL::ZZ &z) {
    unsigned char b[8];
    NTL::BytesFromZZ(b, z, 8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

}  // namespace

extern "C" int hekv_oracle_ntl_negacyclic_mul(uint64_t *out, const uint64_t *a,
                                              const uint64_t *b, size_t n, uint64_t q) {
    if (!out || !a || !b || n == 0 || q < 2) return -1;
    for (size_t i = 0; i < n; i++)
        if (a[i] >= q || b[i] >= q) return -1;
    try {
        NTL::ZZ_pPush push(zz_from_u64(q));  // restores the caller's modulus on return
        const long len = static_cast<long>(n);
        NTL::ZZ_pX A, B, F, C;
        A.SetLength(len);
        B.SetLength(len);
        for (long i = 0; i < len; i++) {
            A[i] = NTL::conv<NTL::ZZ_p>(zz_from_u64(a[i]));
            B[i] = NTL::conv<NTL::ZZ_p>(zz_from_u64(b[i]));
        }
        A.normalize();
        B.normalize();
        NTL::SetCoeff(F, len);  // F = X^n + 1
        NTL::SetCoeff(F, 0);
        NTL::MulMod(C, A, B, F);
        std::vector<uint64_t> res(n, 0);
        for (long i = 0; i <= NTL::deg(C); i++) res[i] = u64_from_zz(NTL::rep(C[i]));
        for (size_t i = 0; i < n; i++) out[i] = res[i];
    } catch (const std::exception &) {
        return -2;
    }
    return 0;
}
