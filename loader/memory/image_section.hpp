// SEC_IMAGE: a file laid out as the memory manager maps it, built once per file and mapped copy-on-write.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mapped_file.hpp"
#include "pe/image.hpp"

namespace pemap::win {

/// One stretch of an image view: the parser's region (its layout and protection, pe::Region), as mapped. `size` is
/// cut to SizeOfImage and `file_offset` to the end of the file; `file_bytes` is what the object holds from the file
/// (the rest is zero fill), where the parser's file_size and raw_size are what the section table declares.
struct ImageRegion : pe::Region {
  uint64_t file_bytes = 0;     ///< how many of its bytes come from the file; the rest is zero fill
  uint64_t object_offset = 0;  ///< where its pages start in the object that backs it (ImageObjects): the image
                               ///< object, or for a `shared` region the shared object
  std::string name;            ///< the section name, "(headers)" or "(flat image)"
};

/// The kernel objects behind one image: an anonymous memfd each, so the kernel frees them with their last
/// descriptor and mapping, whichever way the processes holding them end; nothing has a name in /dev/shm.
struct ImageObjects {
  int image = -1;   ///< the laid-out image, SizeOfImage bytes, sealed against writes once filled
  int shared = -1;  ///< every writable MEM_SHARED region, one after another; -1 when the image has none
};

/// Who else holds image objects. By default nobody: each process builds its own, and shares it with every view
/// and every process it forks. A process that pemap starts to run image code asks its parent instead
/// (run/child.hpp), so that every process of one pemap command maps one object per file, as every process on
/// Windows maps the one image object of a file.
class ImageObjectBroker {
 public:
  virtual ~ImageObjectBroker() = default;
  /// Descriptors (the caller's, to close) of the objects published for `identity`; -1s when there are none.
  virtual ImageObjects find(const std::string& identity) = 0;
  /// Offers the objects this process built for `identity` to the others (the broker keeps its own descriptors).
  virtual void publish(const std::string& identity, ImageObjects objects) = 0;
};

/// Installs this process's broker (nullptr: none). It must outlive every ImageSection::create that uses it.
void set_image_object_broker(ImageObjectBroker* broker);

/// The laid-out image of one file: the image object Windows keeps per file. Build it with create();
/// views keep it alive.
class ImageSection {
 public:
  /// Opens, parses and validates `path` (STATUS_* and ERROR_BAD_EXE_FORMAT as Windows gives them) and lays
  /// it out. While one is alive, another create() for the same file (device, inode, size, mtime) returns it.
  static Result<std::shared_ptr<ImageSection>> create(const std::string& path);
  /// The same for the file open on `fd` (a FileHandle's): the handle's file, whatever its path names now.
  static Result<std::shared_ptr<ImageSection>> create_from_fd(int fd, const std::string& path);
  /// `len` bytes of the image object at `rva`, whatever protection the views give them (reads the image
  /// object and, for shared sections, the shared object).
  std::vector<std::byte> read(uint64_t rva, uint64_t len) const;

  ImageSection(const ImageSection&) = delete;
  ImageSection& operator=(const ImageSection&) = delete;
  ~ImageSection();

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }  ///< SizeOfImage, rounded
  uint64_t preferred_base() const { return preferred_base_; }
  bool flat() const { return flat_; }
  bool pe32plus() const { return pe32plus_; }
  const std::vector<ImageRegion>& regions() const { return regions_; }
  /// The file's bytes, and the parse of them (views into them), for as long as the section lives.
  const pe::Image& image() const { return image_; }

  const ImageObjects& objects() const { return objects_; }
  /// The object backing region `i` (ImageRegion::object_offset is where the region starts in it).
  int backing_fd(size_t i) const;

 private:
  ImageSection(MappedFile file, pe::Image image) : file_(std::move(file)), image_(std::move(image)) {}
  Result<bool> build(const std::string& identity);

  MappedFile file_;
  pe::Image image_;
  std::string path_;
  uint64_t size_ = 0, preferred_base_ = 0;
  bool flat_ = false, pe32plus_ = false;
  std::vector<ImageRegion> regions_;
  Result<bool> fill_objects();

  ImageObjects objects_;
  int owner_pid_ = 0;  // the process that built or received the objects (a forked child only inherits them)
};

/// A view of an image section (MapViewOfFile of a SEC_IMAGE section): headers read-only at the base,
/// each section at its RVA with its protection, gaps reserved. Unmapped when destroyed.
class ImageView {
 public:
  /// At `base` exactly (64 KiB aligned, free: else ERROR_MAPPED_ALIGNMENT / ERROR_INVALID_ADDRESS), or,
  /// when base is null, at the preferred ImageBase if that range is free and anywhere else if not.
  static Result<ImageView> map(std::shared_ptr<const ImageSection> section, void* base = nullptr);

  ImageView(ImageView&& other) noexcept;
  ImageView& operator=(ImageView&& other) noexcept;
  ImageView(const ImageView&) = delete;
  ImageView& operator=(const ImageView&) = delete;
  ~ImageView();

  std::byte* base() const { return base_; }
  uint64_t size() const { return section_ ? section_->size() : 0; }
  bool at_preferred_base() const { return section_ && reinterpret_cast<uint64_t>(base_) == section_->preferred_base(); }
  const ImageSection& section() const { return *section_; }
  /// Copies `len` bytes of the view at `rva` into `out`, whatever protection their pages have (a region without
  /// read access is read through a moment of PROT_READ); bytes in no region (reserved gaps) are left untouched.
  void copy_out(uint64_t rva, std::byte* out, uint64_t len) const;
  /// The whole view, SizeOfImage bytes, as it holds them now; reserved gaps as zeros.
  std::vector<std::byte> bytes() const;

 private:
  ImageView() = default;
  std::shared_ptr<const ImageSection> section_;
  std::byte* base_ = nullptr;
};

}  // namespace pemap::win
