/* primes.c: NTT-friendly primes and primitive roots (see primes.h). */
#include "primes.h"

int hekv_modulus_init(hekv_modulus *m, uint64_t q) {
    if (!m || q < 2 || q >= (1ULL << HEKV_MODULUS_MAX_BITS)) return HEKV_KERN_EINVAL;
    m->q = q;
    m->bits = 64 - __builtin_clzll(q);
    /* floor(2^128 / q) = floor((2^128 - 1) / q) unless q divides 2^128 (q a power of 2). */
    hekv_u128 r = ~(hekv_u128)0 / q;
    if ((q & (q - 1)) == 0) r += 1;
    m->barrett_hi = (uint64_t)(r >> 64);
    m->barrett_lo = (uint64_t)r;
    m->barrett52 = 0;
    if (m->bits <= HEKV_IFMA_MAX_BITS) {
        uint64_t mu = (uint64_t)(((hekv_u128)1 << (m->bits + 51)) / q);
        m->barrett52 = mu < (1ULL << 52) ? mu : (1ULL << 52) - 1;
    }
    return HEKV_KERN_OK;
}

static uint64_t mulmod_u128(uint64_t a, uint64_t b, uint64_t n) {
    return (uint64_t)(((hekv_u128)a * b) % n);
}

static uint64_t powmod_u128(uint64_t b, uint64_t e, uint64_t n) {
    uint64_t r = 1 % n;
    b %= n;
    while (e) {
        if (e & 1) r = mulmod_u128(r, b, n);
        b = mulmod_u128(b, b, n);
        e >>= 1;
    }
    return r;
}

int hekv_is_prime(uint64_t n) {
    static const uint64_t small[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2) return 0;
    for (unsigned i = 0; i < sizeof small / sizeof small[0]; i++) {
        if (n == small[i]) return 1;
        if (n % small[i] == 0) return 0;
    }
    uint64_t d = n - 1;
    int s = 0;
    while ((d & 1) == 0) {
        d >>= 1;
        s++;
    }
    /* These 12 bases make Miller-Rabin exact below 3.3 * 10^24 > 2^64. */
    for (unsigned i = 0; i < sizeof small / sizeof small[0]; i++) {
        uint64_t x = powmod_u128(small[i], d, n);
        if (x == 1 || x == n - 1) continue;
        int composite = 1;
        for (int r = 1; r < s; r++) {
            x = mulmod_u128(x, x, n);
            if (x == n - 1) {
                composite = 0;
                break;
            }
        }
        if (composite) return 0;
    }
    return 1;
}

int hekv_primes_generate(uint64_t *out, int count, int bits, int logn,
                                 const uint64_t *exclude, int nexclude) {
    if (!out || count < 0 || logn < 1 || logn > 20 || bits < logn + 2 ||
        bits > HEKV_MODULUS_MAX_BITS || (nexclude > 0 && !exclude))
        return HEKV_KERN_EINVAL;
    uint64_t step = 1ULL << (logn + 1);
    uint64_t lo = 1ULL << (bits - 1);
    /* Largest candidate below 2^bits that is 1 mod 2N. */
    uint64_t c = (1ULL << bits) - step + 1;
    int found = 0;
    for (; found < count && c > lo; c -= step) {
        if (!hekv_is_prime(c)) continue;
        int skip = 0;
        for (int i = 0; i < nexclude; i++) skip |= exclude[i] == c;
        if (!skip) out[found++] = c;
    }
    return found == count ? HEKV_KERN_OK : HEKV_KERN_ENOTFOUND;
}

int hekv_primitive_root_2n(uint64_t q, int logn, uint64_t *psi) {
    uint64_t m2n = 1ULL << (logn + 1);
    hekv_modulus m;
    if (!psi || logn < 1 || logn > 20 || hekv_modulus_init(&m, q) != HEKV_KERN_OK ||
        (q - 1) % m2n != 0 || !hekv_is_prime(q))
        return HEKV_KERN_EINVAL;
    uint64_t n = m2n / 2;
    for (uint64_t g = 2; g < q; g++) {
        uint64_t x = hekv_mod_pow(g, (q - 1) / m2n, &m);
        if (hekv_mod_pow(x, n, &m) != q - 1) continue;
        /* x generates the 2N-th roots; the primitive ones are its odd powers. Take the
         * smallest so the choice does not depend on the search order. */
        uint64_t x2 = hekv_mod_mul(x, x, &m), best = x, cur = x;
        for (uint64_t j = 1; j < n; j++) {
            cur = hekv_mod_mul(cur, x2, &m);
            if (cur < best) best = cur;
        }
        *psi = best;
        return HEKV_KERN_OK;
    }
    return HEKV_KERN_EINVAL;
}
