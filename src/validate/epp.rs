//! EnvoyPatchPolicy: the v1.9.0 CRD has no CEL rules (its enums and required fields are the
//! schema's); `jsonPath` selection is `unsupported` (a patch is never dropped).

use super::Ctx;
use crate::api::EnvoyPatchPolicy;

pub fn check(p: &EnvoyPatchPolicy, ctx: &mut Ctx) {
    for (i, patch) in p.spec.json_patches.iter().enumerate() {
        if patch.operation.json_path.is_some() {
            ctx.unsupported(format!("/spec/jsonPatches/{i}/operation/jsonPath"), "EnvoyPatchPolicy operation.jsonPath");
        }
    }
}
