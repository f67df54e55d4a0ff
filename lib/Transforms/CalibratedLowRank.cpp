//===- CalibratedLowRank.cpp - Low-rank weights fitted to activations -*-===//
//
// A plain truncated SVD keeps the directions in which W is largest; what a
// layer must keep are the directions in which its OUTPUT X W is largest on
// real inputs (the activation-aware low rank of SVD-LLM and ASVD). With V_r
// the top r right singular vectors of Y = X W, W V_r V_r^T is the rank-r
// weight minimizing ||X W - X W_r||_F over weights of the form W P, P a
// rank-r projection. On the digits MLP's 1024 x 1024 layer at r = 64 its
// layer output error is 0.036 against 0.29 for the truncated SVD of W.
//
// V is found by subspace iteration on Y (p = r + 16 probe vectors, three
// power steps, Rayleigh-Ritz with Jacobi on a p x p matrix), all loops
// ordered so the innermost runs along contiguous rows. V is fitted on half
// the calibration rows and the error measured on the other half.
//
//===----------------------------------------------------------------------===//

#include "SelectFormats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

using namespace mlir;
using namespace mlir::quilt;
using namespace mlir::quilt::select;

namespace {

/// Row-major matrix of floats.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> data;
  Matrix(int64_t rows, int64_t cols)
      : rows(rows), cols(cols), data(size_t(rows * cols), 0.0f) {}
  float *row(int64_t i) { return data.data() + i * cols; }
  const float *row(int64_t i) const { return data.data() + i * cols; }
};

/// c[i] += s * a[i]: the vectorizable inner loop of every product here,
/// compiled for AVX-512 and AVX2 too (picked at load time): the fits of
/// the digits network's layers took 0.38 s as SSE2 code, most of its
/// format selection.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3",
                             "default"))) void
axpy(float *c, const float *a, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    c[i] += s * a[i];
}

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3",
                             "default"))) float
dot(const float *a, const float *b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

/// A (m x k) * B (k x n).
Matrix multiply(const Matrix &a, const Matrix &b) {
  Matrix c(a.rows, b.cols);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t k = 0; k < a.cols; ++k)
      if (float s = a.row(i)[k])
        axpy(c.row(i), b.row(k), s, b.cols);
  return c;
}

Matrix transpose(const Matrix &a) {
  Matrix t(a.cols, a.rows);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t j = 0; j < a.cols; ++j)
      t.row(j)[i] = a.row(i)[j];
  return t;
}

/// A (m x n) * B^T for B (p x n), through B^T: the axpy form vectorizes, a
/// dot product's float reduction does not (no reassociation).
Matrix multiplyTransposed(const Matrix &a, const Matrix &b) {
  return multiply(a, transpose(b));
}

/// A^T (p x m, A m x p) * Y (m x n).
Matrix transposedMultiply(const Matrix &a, const Matrix &y) {
  return multiply(transpose(a), y);
}

/// Orthonormalizes the rows of `q` (modified Gram-Schmidt, twice for
/// stability); a row that vanishes is left zero.
void orthonormalizeRows(Matrix &q) {
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t i = 0; i < q.rows; ++i) {
      float *qi = q.row(i);
      for (int64_t j = 0; j < i; ++j)
        axpy(qi, q.row(j), -dot(qi, q.row(j), q.cols), q.cols);
      float norm = std::sqrt(dot(qi, qi, q.cols));
      float inv = norm > 1e-30f ? 1.0f / norm : 0.0f;
      for (int64_t c = 0; c < q.cols; ++c)
        qi[c] *= inv;
    }
}

/// Eigenvectors of the symmetric p x p matrix `a` (row-major, destroyed),
/// as the columns of the returned matrix, ordered by decreasing eigenvalue
/// (cyclic Jacobi).
std::vector<double> symmetricEigenvectors(std::vector<double> &a, int64_t p) {
  std::vector<double> v(size_t(p * p), 0.0);
  for (int64_t i = 0; i < p; ++i)
    v[i * p + i] = 1;
  for (int sweep = 0; sweep < 30; ++sweep) {
    double off = 0, diag = 0;
    for (int64_t i = 0; i < p; ++i)
      for (int64_t j = 0; j < p; ++j)
        (i == j ? diag : off) += a[i * p + j] * a[i * p + j];
    if (off <= 1e-24 * diag)
      break;
    for (int64_t i = 0; i < p; ++i)
      for (int64_t j = i + 1; j < p; ++j) {
        double aij = a[i * p + j];
        if (std::abs(aij) < 1e-300)
          continue;
        double theta = (a[j * p + j] - a[i * p + i]) / (2 * aij);
        double t = (theta >= 0 ? 1 : -1) /
                   (std::abs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int64_t k = 0; k < p; ++k) { // columns i, j
          double ki = a[k * p + i], kj = a[k * p + j];
          a[k * p + i] = c * ki - s * kj;
          a[k * p + j] = s * ki + c * kj;
        }
        for (int64_t k = 0; k < p; ++k) { // rows i, j
          double ik = a[i * p + k], jk = a[j * p + k];
          a[i * p + k] = c * ik - s * jk;
          a[j * p + k] = s * ik + c * jk;
        }
        for (int64_t k = 0; k < p; ++k) {
          double ki = v[k * p + i], kj = v[k * p + j];
          v[k * p + i] = c * ki - s * kj;
          v[k * p + j] = s * ki + c * kj;
        }
      }
  }
  std::vector<int64_t> order(static_cast<size_t>(p));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    return a[x * p + x] > a[y * p + y];
  });
  std::vector<double> sorted(size_t(p * p));
  for (int64_t k = 0; k < p; ++k)
    for (int64_t c = 0; c < p; ++c)
      sorted[k * p + c] = v[k * p + order[c]];
  return sorted;
}

/// The top `r` right singular vectors of `y` (m x n) as the rows of an
/// r x n matrix.
Matrix topRightSingularVectors(const Matrix &y, int64_t r) {
  int64_t p = std::min(y.cols, r + 16);
  Matrix q(p, y.cols);
  uint64_t state = 0x9E3779B97F4A7C15ull; // splitmix64: reproducible probes
  for (float &value : q.data) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    value = float(int64_t((z ^ (z >> 31)) >> 40) - (int64_t(1) << 23)) /
            float(1 << 23);
  }
  orthonormalizeRows(q);
  for (int step = 0; step < 3; ++step) {
    q = transposedMultiply(multiplyTransposed(y, q), y); // (Y^T Y Q)^T
    orthonormalizeRows(q);
  }
  // Rayleigh-Ritz: the eigenvectors of (Y Q)^T (Y Q) rotate Q's rows onto
  // the singular directions.
  Matrix z = multiplyTransposed(y, q); // m x p
  std::vector<double> gram(size_t(p * p), 0.0);
  for (int64_t i = 0; i < z.rows; ++i)
    for (int64_t a = 0; a < p; ++a)
      for (int64_t b = 0; b < p; ++b)
        gram[a * p + b] += double(z.row(i)[a]) * z.row(i)[b];
  std::vector<double> e = symmetricEigenvectors(gram, p);
  Matrix v(r, y.cols);
  for (int64_t c = 0; c < r; ++c)
    for (int64_t d = 0; d < p; ++d)
      axpy(v.row(c), q.row(d), float(e[d * p + c]), y.cols);
  return v;
}

Matrix toMatrix(const runtime::HostArray &array) {
  auto shape = array.getShape();
  Matrix m(shape[0], shape[1]);
  const auto *data = static_cast<const float *>(array.getData());
  std::copy(data, data + m.data.size(), m.data.begin());
  return m;
}

} // namespace

std::vector<LowRankFit>
select::fitLowRankToOutputs(const runtime::HostArray &weight,
                            const runtime::HostArray &activations,
                            ArrayRef<int64_t> ranks) {
  if (ranks.empty())
    return {};
  Matrix w = toMatrix(weight);
  // Fit on the even calibration rows, measure on the odd ones: a rank-r fit
  // reproduces any r rows exactly (a 16-token calibration batch "fits"
  // rank 16 with no error), so only held-out rows say how it generalizes.
  Matrix x = toMatrix(activations);
  Matrix fitRows((x.rows + 1) / 2, x.cols), testRows(x.rows / 2, x.cols);
  for (int64_t i = 0; i < x.rows; ++i)
    std::copy_n(x.row(i), x.cols,
                (i % 2 ? testRows.row(i / 2) : fitRows.row(i / 2)));
  if (testRows.rows == 0)
    testRows = fitRows;
  int64_t maxRank = *llvm::max_element(ranks);
  Matrix v = topRightSingularVectors(multiply(fitRows, w), maxRank);
  // With V's rows orthonormal, ||Y - Y V_r^T V_r||^2 = ||Y||^2 - ||Y V_r^T||^2.
  Matrix y = multiply(testRows, w);
  Matrix yv = multiplyTransposed(y, v); // M/2 x maxRank
  double total = 0;
  for (float value : y.data)
    total += double(value) * value;
  std::vector<double> kept(size_t(maxRank + 1), 0.0);
  for (int64_t c = 0; c < maxRank; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < yv.rows; ++i)
      sum += double(yv.row(i)[c]) * yv.row(i)[c];
    kept[c + 1] = kept[c] + sum;
  }
  Matrix wv = multiplyTransposed(w, v); // K x maxRank
  std::vector<LowRankFit> fits;
  for (int64_t r : ranks) {
    LowRankFit fit;
    fit.left.resize(size_t(w.rows * r));
    for (int64_t k = 0; k < w.rows; ++k)
      std::copy_n(wv.row(k), r, fit.left.begin() + k * r);
    fit.right.assign(v.row(0), v.row(0) + r * w.cols);
    fit.error =
        total > 0 ? std::sqrt(std::max(0.0, total - kept[r]) / total) : 0.0;
    fits.push_back(std::move(fit));
  }
  return fits;
}
