/* boot_params.c: the built-in bootstrapping literals and their checks. Each names the CKKS
 * set it runs on (src/ckks/params.c lays those sets out top down as CoeffToSlot, EvalMod,
 * SlotToCoeff, user levels, q_0). The choices and the measurements behind them are in
 * DESIGN.md ("Bootstrapping"). */
#include <stdio.h>
#include <string.h>

#include "boot_int.h"

typedef struct {
    const char *name, *params;
    int log_slots, cts, stc, unit, log_ratio, hw, r;
} named_boot;

static const named_boot named[] = {
    /* the 128-bit N = 2^16 sets: full slots (the comparison with the field) and 2^10 */
    {"boot-N16", "N16-boot", 15, 4, 3, 2, 8, 32, 2},
    {"boot-N16-s10", "N16-boot", 10, 4, 3, 2, 9, 32, 2},
    {"boot-N16-s7", "N16-boot", 7, 4, 3, 2, 9, 32, 2},
    /* the same circuit on the set with the most levels left (12), for the encrypted model */
    {"boot-N16-L12", "N16-boot-L12", 15, 4, 3, 2, 8, 32, 2},
    /* toys of the same code paths: full slots, sparse slots (trace, repack) */
    {"toy-boot-N12", "toy-boot-N12", 11, 3, 3, 2, 9, 32, 2},
    {"toy-boot-N12-s7", "toy-boot-N12", 7, 3, 3, 2, 9, 32, 2},
    {"toy-boot-N12-s5", "toy-boot-N12", 5, 3, 3, 2, 9, 32, 2},
    {"toy-boot-N12-u1", "toy-boot-N12-u1", 11, 3, 3, 1, 9, 32, 2},
};
#define NNAMED (sizeof named / sizeof named[0])

static const char *const names[NNAMED + 1] = {"boot-N16",        "boot-N16-s10",
                                              "boot-N16-s7",     "boot-N16-L12",
                                              "toy-boot-N12",    "toy-boot-N12-s7",
                                              "toy-boot-N12-s5", "toy-boot-N12-u1", NULL};

const char *const *hekv_boot_names(void) { return names; }

hekv_status hekv_boot_lit_named(const char *name, hekv_boot_lit *lit, hekv_err *err) {
    if (!name || !lit) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_boot_lit_named: NULL argument");
    for (size_t i = 0; i < NNAMED; i++) {
        if (strcmp(named[i].name, name)) continue;
        memset(lit, 0, sizeof *lit);
        snprintf(lit->name, sizeof lit->name, "%s", named[i].name);
        snprintf(lit->params, sizeof lit->params, "%s", named[i].params);
        lit->log_slots = named[i].log_slots;
        lit->cts_levels = named[i].cts;
        lit->stc_levels = named[i].stc;
        lit->evalmod_unit = named[i].unit;
        lit->log_ratio = named[i].log_ratio;
        lit->ephemeral_hw = named[i].hw;
        lit->double_angles = named[i].r;
        return HEKV_OK;
    }
    char known[256] = "";
    for (size_t i = 0; i < NNAMED; i++) {
        strncat(known, named[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < NNAMED) strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    return hekv_err_set(err, HEKV_ERR_ARG, "unknown bootstrapping set '%s' (known: %s)", name,
                        known);
}
