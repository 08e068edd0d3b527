// VirtualQuery on Linux: the kernel's view of the address space (/proc/self/maps) in Win32 terms, with the views,
// image views and reservations this process registered giving types, allocation bases and PE section names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "memory/win32.hpp"
#include "pe/error.hpp"

namespace pemap::win {

/// MEMORY_BASIC_INFORMATION.
struct MemoryBasicInformation {
  uint64_t base = 0;                  ///< the queried address rounded down to a page, as Windows reports it
  uint64_t allocation_base = 0;       ///< the view, image, reservation or mapping the region belongs to; 0 when free
  uint64_t region_size = 0;           ///< from `base` to the end of the run of pages with the same attributes
  uint32_t state = 0;                 ///< MEM_COMMIT, MEM_RESERVE or MEM_FREE
  uint32_t protect = 0;               ///< PAGE_* as Linux has the pages; 0 for MEM_RESERVE, PAGE_NOACCESS for MEM_FREE
  uint32_t allocation_protect = 0;    ///< PAGE_* the view or reservation was made with; 0 when free
  uint32_t type = 0;                  ///< MEM_IMAGE, MEM_MAPPED or MEM_PRIVATE; 0 when free
  std::vector<std::string> sections;  ///< of an image region, the PE sections it spans ("(headers)" too), in order
};

/// VirtualQuery(address): the region of `address`, from the kernel's maps. Protect comes from the rwxp flags; a
/// private writable file mapping of a FILE_MAP_COPY view or an image view is PAGE_WRITECOPY (PAGE_EXECUTE_WRITECOPY
/// when executable) for the whole region: Linux does not tell which pages were already copied. State is MEM_COMMIT
/// for mapped pages, MEM_RESERVE for PROT_NONE pages inside a registered reservation, MEM_FREE where nothing is
/// mapped (the region then runs to the next mapping). Type is MEM_MAPPED for data views (map_view_of_file), MEM_IMAGE
/// inside registered image views, MEM_PRIVATE otherwise. As on Windows, a region is the run of pages from the
/// address with the same state, protection, type and allocation base: it never crosses its allocation, and in an
/// image it spans every adjacent section with the same protection (their names in `sections`).
/// Errors: ERROR_INVALID_PARAMETER (address above user space), ERROR_ACCESS_DENIED (/proc/self/maps unreadable).
Result<MemoryBasicInformation> virtual_query(const void* address);

/// The regions of [base, base+size) in order, by repeated virtual_query: the first starts at base's page, the last
/// is reported whole (it may run past the range). Empty if the first query fails.
std::vector<MemoryBasicInformation> query_range(const void* base, size_t size);

/// Bytes of the mapping holding `address` that the kernel counts as dirty (/proc/self/smaps Shared_Dirty plus
/// Private_Dirty): for a view of a file, what FlushViewOfFile has yet to write, counted in the page cache's folios
/// (one write can dirty more than its page when a folio is larger). Windows has no call for this; pemap
/// has it so that a flush can be seen. Errors: ERROR_INVALID_ADDRESS (nothing mapped there), ERROR_ACCESS_DENIED
/// (/proc/self/smaps unreadable).
Result<uint64_t> dirty_bytes(const void* address);

/// One PE section (or the headers) of an image view: [rva, rva+size) relative to the image base.
struct ImageRegionInfo {
  uint64_t rva = 0;
  uint64_t size = 0;
  std::string section;  ///< ".text", or "(headers)"
};

/// Marks [base, base+size) as an image view (MEM_IMAGE, allocation protect PAGE_EXECUTE_WRITECOPY) until
/// unregister_image_view. `keepalive` is held as long as the registration: pass the owner of the mapping.
void register_image_view(const void* base, size_t size, std::vector<ImageRegionInfo> regions,
                         std::shared_ptr<const void> keepalive);
void unregister_image_view(const void* base);

/// Marks [base, base+size) as a reservation (VirtualAlloc MEM_RESERVE): its PROT_NONE pages are MEM_RESERVE, the
/// others MEM_COMMIT MEM_PRIVATE, all with this allocation base and protect. The caller owns the memory.
void register_reservation(const void* base, size_t size, uint32_t allocation_protect = PAGE_NOACCESS);
void unregister_reservation(const void* base);

}  // namespace pemap::win
