// Scalar helpers shared by the kernels; the host prepends this file to every kernel's source.
//
// WGSL lets an implementation assume that no overflow, infinity or NaN occurs, so every exp() here
// is given an argument that cannot overflow.

// erfc(z) for z >= 0 by the Chebyshev fit of Numerical Recipes' erfcc, whose *relative* error is
// below 1.2e-7 everywhere (WGSL has no erf). Small tails stay accurate, unlike 1 - erf(z).
fn erfc_nonnegative(z: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277))))))));
    return t * exp(poly - z * z);
}

// The exact (erf) GELU, PyTorch's default: x · Φ(x) = x/2 · erfc(−x/√2), written so that the
// result's relative error stays near erfc's for every x (x − x/2 · erfc(x/√2) when x ≥ 0).
// |x|/√2 is capped at 10, where erfc is already below f32's smallest normal number.
fn gelu(x: f32) -> f32 {
    let half = 0.5 * x * erfc_nonnegative(min(abs(x) * 0.70710678118654752, 10.0));
    return select(half, x - half, x >= 0.0);
}

// The logistic function; the clamp keeps exp() finite (the result is 0 or 1 to f32 beyond ±80).
fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-clamp(x, -80.0, 80.0)));
}

// tanh from exp(-2|x|), which never overflows.
fn tanh_stable(x: f32) -> f32 {
    let e = exp(-2.0 * abs(x));
    let t = (1.0 - e) / (1.0 + e);
    return select(t, -t, x < 0.0);
}
