// The TEB, the PEB and the TLS slot array: plain memory laid out as Windows x64 lays it out, with gs pointing at the
// TEB of each thread that runs image code.
#include "run/teb.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <asm/prctl.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "pe/tls.hpp"

namespace pemap::run {

namespace {

struct FreeBlock {
  void operator()(std::byte* p) const { std::free(p); }
};

// What one thread has: its TEB, the array ThreadLocalStoragePointer points at (slot -> module block), which module
// each slot belongs to, and the expansion slots of TlsAlloc.
struct ThreadState {
  std::byte* teb = nullptr;
  std::vector<uint64_t> tls_pointers;
  std::vector<std::unique_ptr<std::byte, FreeBlock>> tls_blocks;
  std::vector<const ldr::Module*> tls_owners;
  std::unique_ptr<uint64_t[]> expansion_slots;
  uint32_t last_error = 0;  // until the TEB exists
};

thread_local ThreadState t_thread;
std::byte* g_peb = nullptr;
// ProcessHeap: a handle, never dereferenced by Windows code (it calls HeapAlloc with it).
const char g_process_heap[16] = "pemap heap";

template <class T>
void put(std::byte* block, uint32_t offset, T value) {
  std::memcpy(block + offset, &value, sizeof value);
}
template <class T>
T get(const std::byte* block, uint32_t offset) {
  T value{};
  std::memcpy(&value, block + offset, sizeof value);
  return value;
}

[[maybe_unused]] std::byte* map_zeroed(uint64_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
}

Error teb_error(std::string message) {
  return make_error(Status::dll_init_failed, "TEB", Location{}, std::move(message));
}

void publish_tls_pointer(ThreadState& t) {
  put<uint64_t>(t.teb, teb_offset::thread_local_storage_pointer,
                t.tls_pointers.empty() ? 0 : reinterpret_cast<uint64_t>(t.tls_pointers.data()));
}

// Whether [rva, rva+len) lies in one mapped region of the module: the index slot must be where the loader wrote.
bool in_one_region(const ldr::Module& m, uint64_t rva, uint64_t len) {
  for (const auto& r : m.section->regions())
    if (rva >= r.rva && rva - r.rva <= r.size && len <= r.size - (rva - r.rva)) return true;
  return false;
}

}  // namespace

Result<uint64_t> install_teb(uint64_t image_base) {
#if defined(__x86_64__)
  if (!g_peb) {
    g_peb = map_zeroed(peb_offset::size);
    if (!g_peb) return teb_error("no memory for the PEB");
    put<uint64_t>(g_peb, peb_offset::mutant, ~uint64_t{0});
    put<uint64_t>(g_peb, peb_offset::process_heap, process_heap());
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    put<uint32_t>(g_peb, peb_offset::number_of_processors, cpus > 0 ? static_cast<uint32_t>(cpus) : 1);
    put<uint32_t>(g_peb, peb_offset::os_major_version, 10);
    put<uint32_t>(g_peb, peb_offset::os_minor_version, 0);
    put<uint16_t>(g_peb, peb_offset::os_build_number, 19045);
    put<uint32_t>(g_peb, peb_offset::os_platform_id, 2);  // VER_PLATFORM_WIN32_NT
  }
  put<uint64_t>(g_peb, peb_offset::image_base_address, image_base);

  ThreadState& t = t_thread;
  if (t.teb) return reinterpret_cast<uint64_t>(t.teb);
  pthread_attr_t attr;
  if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return teb_error("this thread's stack is unknown");
  void* stack = nullptr;
  size_t stack_size = 0;
  const int got = ::pthread_attr_getstack(&attr, &stack, &stack_size);
  ::pthread_attr_destroy(&attr);
  if (got != 0) return teb_error("this thread's stack is unknown");

  std::byte* teb = map_zeroed(teb_offset::size);
  if (!teb) return teb_error("no memory for the TEB");
  const auto low = reinterpret_cast<uint64_t>(stack);
  // The whole stack counts as committed: Linux grows it on demand, so __chkstk need not probe page by page.
  put<uint64_t>(teb, teb_offset::stack_base, low + stack_size);
  put<uint64_t>(teb, teb_offset::stack_limit, low);
  put<uint64_t>(teb, teb_offset::deallocation_stack, low);
  put<uint64_t>(teb, teb_offset::self, reinterpret_cast<uint64_t>(teb));
  put<uint64_t>(teb, teb_offset::client_id_process, static_cast<uint64_t>(::getpid()));
  put<uint64_t>(teb, teb_offset::client_id_thread, static_cast<uint64_t>(::syscall(SYS_gettid)));
  put<uint64_t>(teb, teb_offset::peb, reinterpret_cast<uint64_t>(g_peb));
  put<uint32_t>(teb, teb_offset::last_error_value, t.last_error);
  if (::syscall(SYS_arch_prctl, ARCH_SET_GS, reinterpret_cast<uint64_t>(teb)) != 0) {
    const int e = errno;
    ::munmap(teb, teb_offset::size);
    return teb_error(fmt::format("arch_prctl(ARCH_SET_GS) failed: {}", std::strerror(e)));
  }
  t.teb = teb;
  publish_tls_pointer(t);
  return reinterpret_cast<uint64_t>(teb);
#else
  (void)image_base;
  return teb_error("a Windows x64 TEB needs an x86-64 host");
#endif
}

uint64_t current_teb() { return reinterpret_cast<uint64_t>(t_thread.teb); }

uint64_t process_heap() { return reinterpret_cast<uint64_t>(&g_process_heap); }

Result<bool> allocate_tls(const ldr::Module& m) {
  const pe::Image& image = m.image();
  auto tls = pe::parse_tls(image);
  if (!tls || !tls->present) return false;  // the loader gave it no index either
  ThreadState& t = t_thread;
  if (!t.teb) return teb_error(fmt::format("{}'s TLS block: this thread has no TEB", m.name));
  const uint64_t base = image.image_base(), size = m.section->size();
  auto where = [&](std::string what) {
    return make_error(Status::invalid_image_format, "TLS directory", Location{},
                      fmt::format("{}: {}", m.name, std::move(what)));
  };

  // The index the loader wrote at AddressOfIndex.
  const uint64_t index_va = tls->address_of_index;
  if (index_va < base || !in_one_region(m, index_va - base, 4))
    return where(fmt::format("AddressOfIndex {:#x} is not in the mapped image: it has no TLS index", index_va));
  uint32_t index = 0;
  m.view->copy_out(index_va - base, reinterpret_cast<std::byte*>(&index), sizeof index);
  if (index >= 0x10000) return where(fmt::format("TLS index {} at AddressOfIndex is not one the loader gives", index));

  // The template: [Start, End) of the image as mapped, so relocated pointers in it are relocated.
  const uint64_t start = tls->start_of_raw_data, end = tls->end_of_raw_data;
  uint64_t template_rva = 0, template_size = 0;
  if (start != 0 || end != 0) {
    if (start < base || end < start || end - base > size)
      return where(fmt::format("the template [{:#x}, {:#x}) is not inside the image ({:#x}..{:#x})", start, end, base,
                               base + size));
    template_rva = start - base;
    template_size = end - start;
  }
  const uint64_t total = template_size + tls->size_of_zero_fill;
  // IMAGE_SCN_ALIGN_*: bits 20..23 hold log2(alignment) + 1.
  const uint32_t align_code = (tls->characteristics >> 20) & 0xf;
  const uint64_t align =
      std::max<uint64_t>(16, align_code >= 1 && align_code <= 14 ? uint64_t{1} << (align_code - 1) : 1);
  if (total > (uint64_t{1} << 32))
    return teb_error(fmt::format("{}'s TLS block of {:#x} bytes is too large (STATUS_NO_MEMORY)", m.name, total));
  const uint64_t allocated = (std::max<uint64_t>(total, 1) + align - 1) / align * align;
  std::unique_ptr<std::byte, FreeBlock> block(static_cast<std::byte*>(std::aligned_alloc(align, allocated)));
  if (!block) return teb_error(fmt::format("no memory for {}'s TLS block (STATUS_NO_MEMORY)", m.name));
  std::memset(block.get(), 0, allocated);
  if (template_size > 0) m.view->copy_out(template_rva, block.get(), template_size);

  if (index >= t.tls_pointers.size()) {
    t.tls_pointers.resize(index + 1, 0);
    t.tls_blocks.resize(index + 1);
    t.tls_owners.resize(index + 1, nullptr);
  }
  if (t.tls_owners[index] == &m) return true;  // it has its block already
  if (t.tls_owners[index] != nullptr)
    return where(fmt::format("TLS index {} is {}'s already", index, t.tls_owners[index]->name));
  t.tls_pointers[index] = reinterpret_cast<uint64_t>(block.get());
  t.tls_blocks[index] = std::move(block);
  t.tls_owners[index] = &m;
  publish_tls_pointer(t);  // the array may have moved
  return true;
}

void release_tls(const ldr::Module& m) {
  ThreadState& t = t_thread;
  for (size_t i = 0; i < t.tls_owners.size(); ++i) {
    if (t.tls_owners[i] != &m) continue;
    t.tls_pointers[i] = 0;
    t.tls_blocks[i].reset();
    t.tls_owners[i] = nullptr;
  }
}

uint64_t* tls_value_slot(uint32_t index, bool create) {
  ThreadState& t = t_thread;
  if (!t.teb || index >= kTlsMinimumAvailable + kTlsExpansionSlots) return nullptr;
  if (index < kTlsMinimumAvailable)
    return reinterpret_cast<uint64_t*>(t.teb + teb_offset::tls_slots) + index;  // 8-aligned in a page-aligned TEB
  if (!t.expansion_slots) {
    if (!create) return nullptr;
    t.expansion_slots = std::make_unique<uint64_t[]>(kTlsExpansionSlots);
    put<uint64_t>(t.teb, teb_offset::tls_expansion_slots, reinterpret_cast<uint64_t>(t.expansion_slots.get()));
  }
  return t.expansion_slots.get() + (index - kTlsMinimumAvailable);
}

uint32_t last_error() {
  const ThreadState& t = t_thread;
  return t.teb ? get<uint32_t>(t.teb, teb_offset::last_error_value) : t.last_error;
}

void set_last_error(uint32_t code) {
  ThreadState& t = t_thread;
  if (t.teb)
    put<uint32_t>(t.teb, teb_offset::last_error_value, code);
  else
    t.last_error = code;
}

}  // namespace pemap::run
