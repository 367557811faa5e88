// Compiled, never run: the prefetch_kept test disassembles this object file and expects a prefetch
// instruction in it (inlined into the probe, or in the factorization_machine::prefetch it calls).
// The probe calls a function that does nothing but prefetch, the case g++ 12 compiled to a bare
// `ret` before mlsd::detail::prefetch (include/mlsd/core/prefetch.hpp): it found
// factorization_machine::prefetch pure and deleted the call, so model::train never prefetched a
// model row.
#include <mlsd/core/sparse.hpp>
#include <mlsd/model/fm.hpp>

void mlsd_probe_fm_prefetch(const mlsd::model::factorization_machine& m, mlsd::sparse_row_view x) {
  m.prefetch(x);
}
