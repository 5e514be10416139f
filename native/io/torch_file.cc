#include "io/torch_file.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace trajmatch::io {

namespace {

// Nesting deeper than this is refused while the pickle is read (the published buffers nest 4
// deep): destroying deeply nested values recurses, and a cycle would never end.
constexpr int kMaxDepth = 32;

// What a GLOBAL may name. Everything else is refused. TypeTag and SpecializedList are the plain
// data helpers that libtorch's own writer (torch::pickle_save) emits: a type annotation on a list
// or dict, and typed lists of ints, floats, booleans or tensors.
enum class Global { RebuildTensor, RebuildParameter, OrderedDict, Storage, TypeTag, SpecializedList };

// A global placed inside a container (the storage type in a persistent id) travels as a string
// with this prefix; only the persistent-id reader gives it a meaning.
const std::string kGlobalTag = std::string("\0trajmatch-global\0", 18);

const std::map<std::string, at::ScalarType>& storageTypes() {
  static const std::map<std::string, at::ScalarType> types = {
      {"FloatStorage", at::kFloat},       {"DoubleStorage", at::kDouble}, {"HalfStorage", at::kHalf},
      {"BFloat16Storage", at::kBFloat16}, {"LongStorage", at::kLong},     {"IntStorage", at::kInt},
      {"ShortStorage", at::kShort},       {"CharStorage", at::kChar},     {"ByteStorage", at::kByte},
      {"BoolStorage", at::kBool}};
  return types;
}

// The magic number and version that open torch.save's legacy (non-zip) format.
constexpr uint8_t kLegacyMagic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                      0x20, 0x6a, 0xa8, 0x50, 0x19};  // 0x1950a86a20f9469cfc6c
constexpr int64_t kLegacyVersion = 1001;

// A pickle that ends before its STOP. The legacy reader reads the head of a file and, on this,
// reads more of it.
struct PickleTruncated : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool hostIsLittleEndian() {
  const uint16_t one = 1;
  uint8_t first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// What a persistent id names: ('storage', torch.<T>Storage, key, location, numel) in a zip
// archive; the legacy format adds a sixth field, None or (view key, offset, numel) for a storage
// that views part of another.
struct StorageRef {
  std::string key;
  at::ScalarType dtype = at::kFloat;
  int64_t numel = 0;
  c10::IValue view;
};

// Where the values of the storages a pickle names come from: a zip archive's records, or the
// bytes after the pickles of a legacy file.
class StorageSource {
 public:
  virtual ~StorageSource() = default;
  // Whether persistent ids have the legacy format's sixth field.
  virtual bool legacy() const = 0;
  // The storage as a 1-D tensor of ref.numel values (`where`: the byte of the pickle that names it).
  virtual at::Tensor storage(const StorageRef& ref, size_t where) = 0;
  // A tensor of sizes/strides from `offset` of a storage from storage(), already checked to lie
  // inside it and to hold at least one value.
  virtual at::Tensor tensor(const at::Tensor& storage, const std::vector<int64_t>& sizes,
                            const std::vector<int64_t>& strides, int64_t offset) = 0;
};

// One entry of the unpickler's stack or memo.
struct Item {
  enum class Kind { Value, Mark, Global } kind = Kind::Value;
  c10::IValue value;
  Global global = Global::OrderedDict;
  std::string name;  // of a global: module.name
};

bool isContainer(const c10::IValue& v) { return v.isList() || v.isGenericDict() || v.isTuple(); }

// One pickle: `data` holds it (and may go on past its STOP); `source` gives the storages its
// persistent ids name (none: a pickle without tensors); `what` names it in messages.
class Unpickler {
 public:
  Unpickler(const std::string& path, const char* data, size_t size, StorageSource* source, const char* what)
      : path_(path), data_(data), size_(size), source_(source), what_(what) {}

  // The bytes read so far: after run(), the pickle's length.
  size_t position() const { return pos_; }
  // The storages made so far (they must not be mistaken for tensors once unpickled).
  const std::unordered_set<const void*>& storageImpls() const { return storageImpls_; }

  c10::IValue run() {
    while (true) {
      const size_t at = pos_;
      const uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;   // PROTO
        case 0x95: take(8); break;  // FRAME
        case '.': return popValue("STOP");
        case '(': stack_.push_back({Item::Kind::Mark}); break;
        case ']': push(c10::impl::GenericList(c10::AnyType::get())); break;
        case ')': push(makeTuple({})); break;
        case '}': push(c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get())); break;
        case 'l': {  // LIST
          c10::impl::GenericList list(c10::AnyType::get());
          for (auto& v : popToMark()) append(list, std::move(v));
          push(list);
          break;
        }
        case 't': push(makeTuple(popToMark())); break;
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          std::vector<c10::IValue> items(op - 0x84);
          for (size_t i = items.size(); i-- > 0;) items[i] = popValue("TUPLE");
          push(makeTuple(std::move(items)));
          break;
        }
        case 'd': {  // DICT
          c10::impl::GenericDict dict(c10::AnyType::get(), c10::AnyType::get());
          setItems(dict, popToMark());
          push(dict);
          break;
        }
        case 'a': {  // APPEND
          auto v = popValue("APPEND");
          auto list = topValue("APPEND");
          if (!list.isList()) fail("APPEND to something that is not a list");
          auto l = list.toList();
          append(l, std::move(v));
          break;
        }
        case 'e': {  // APPENDS
          auto items = popToMark();
          auto list = topValue("APPENDS");
          if (!list.isList()) fail("APPENDS to something that is not a list");
          auto l = list.toList();
          for (auto& v : items) append(l, std::move(v));
          break;
        }
        case 's': {  // SETITEM
          auto v = popValue("SETITEM");
          auto k = popValue("SETITEM");
          auto dict = topValue("SETITEM");
          if (!dict.isGenericDict()) fail("SETITEM on something that is not a dict");
          auto d = dict.toGenericDict();
          setItems(d, {std::move(k), std::move(v)});
          break;
        }
        case 'u': {  // SETITEMS
          auto items = popToMark();
          auto dict = topValue("SETITEMS");
          if (!dict.isGenericDict()) fail("SETITEMS on something that is not a dict");
          auto d = dict.toGenericDict();
          setItems(d, std::move(items));
          break;
        }
        case 'q': memoize(byte()); break;                 // BINPUT
        case 'r': memoize(little<uint32_t>()); break;     // LONG_BINPUT
        case 0x94: memoize(memo_.size()); break;          // MEMOIZE
        case 'p': memoize(number(line(), "PUT")); break;  // PUT
        case 'h': recall(byte()); break;                  // BINGET
        case 'j': recall(little<uint32_t>()); break;      // LONG_BINGET
        case 'g': recall(number(line(), "GET")); break;   // GET
        case 'N': push(c10::IValue()); break;
        case 0x88: push(true); break;
        case 0x89: push(false); break;
        case 'J': push(static_cast<int64_t>(little<int32_t>())); break;   // BININT
        case 'K': push(static_cast<int64_t>(byte())); break;              // BININT1
        case 'M': push(static_cast<int64_t>(little<uint16_t>())); break;  // BININT2
        case 0x8a: push(long1()); break;                                  // LONG1
        case 'I': {                                                       // INT (protocol 0; "00"/"01" are booleans)
          const auto text = line();
          if (text == "00" || text == "01") push(text == "01");
          else push(static_cast<int64_t>(number(text, "INT")));
          break;
        }
        case 'G': push(binfloat()); break;                 // BINFLOAT
        case 'X': push(text(little<uint32_t>())); break;   // BINUNICODE
        case 0x8c: push(text(byte())); break;              // SHORT_BINUNICODE
        case 0x8d: push(text(little<uint64_t>())); break;  // BINUNICODE8
        case 'U':
        case 'C': push(text(byte())); break;  // SHORT_BINSTRING, SHORT_BINBYTES
        case 'T':
        case 'B': push(text(little<uint32_t>())); break;   // BINSTRING, BINBYTES
        case 0x8e: push(text(little<uint64_t>())); break;  // BINBYTES8
        case 'c': {                                        // GLOBAL
          const auto module = line();
          const auto name = line();
          pushGlobal(module, name);
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const auto name = popValue("STACK_GLOBAL");
          const auto module = popValue("STACK_GLOBAL");
          if (!name.isString() || !module.isString()) fail("STACK_GLOBAL needs two strings");
          pushGlobal(module.toStringRef(), name.toStringRef());
          break;
        }
        case 'Q': push(persistentStorage(popValue("BINPERSID"), at)); break;  // BINPERSID
        case 'R': reduce(); break;                                            // REDUCE
        case '0': pop("POP"); break;
        case '1': popToMark(); break;
        case '2': {  // DUP
          if (stack_.empty()) fail("DUP on an empty stack");
          stack_.push_back(stack_.back());
          break;
        }
        case 'b': {  // BUILD: only the attributes an OrderedDict carries (a state_dict's _metadata), dropped
          pop("BUILD");
          if (stack_.empty() || stack_.back().kind != Item::Kind::Value || !stack_.back().value.isGenericDict()) {
            fail("opcode 'BUILD' at byte " + std::to_string(at) +
                 " would set the state of an object; only plain data is read from .pt files (nothing in the file was "
                 "run)");
          }
          break;
        }
        case 'i':
        case 'o':
        case 0x81:
        case 0x92:
        case 0x82:
        case 0x83:
        case 0x84:
        case 'P':
          fail("opcode '" + opName(op) + "' at byte " + std::to_string(at) +
               " would build an object or run code; only plain data is read from .pt files (nothing in the file was "
               "run)");
        default: fail("unsupported pickle opcode 0x" + hex(op) + " at byte " + std::to_string(at));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": " + what); }
  [[noreturn]] void truncated() const {
    throw PickleTruncated(path_ + ": the pickle ends early (" + what_ + " is truncated or corrupt)");
  }

  static std::string hex(uint8_t v) {
    static const char digits[] = "0123456789abcdef";
    return {digits[v >> 4], digits[v & 15]};
  }
  static std::string opName(uint8_t op) {
    switch (op) {
      case 'i': return "INST";
      case 'o': return "OBJ";
      case 0x81: return "NEWOBJ";
      case 0x92: return "NEWOBJ_EX";
      case 'b': return "BUILD";
      case 'P': return "PERSID";
      default: return "EXT";
    }
  }

  const char* take(size_t n) {
    if (n > size_ - pos_) truncated();
    const char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint8_t byte() { return static_cast<uint8_t>(*take(1)); }
  template <typename T>
  T little() {
    T v = 0;
    const auto* p = reinterpret_cast<const uint8_t*>(take(sizeof(T)));
    for (size_t i = sizeof(T); i-- > 0;) v = static_cast<T>((static_cast<uint64_t>(v) << 8) | p[i]);
    return v;
  }
  std::string line() {
    const char* start = data_ + pos_;
    const void* end = std::memchr(start, '\n', size_ - pos_);
    if (!end) truncated();
    const size_t n = static_cast<const char*>(end) - start;
    pos_ += n + 1;
    return std::string(start, n);
  }
  uint64_t number(const std::string& s, const char* what) const {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      fail(std::string(what) + " with a malformed number '" + s + "'");
    }
    return std::stoull(s);
  }
  c10::IValue text(uint64_t n) {
    if (n > size_ - pos_) truncated();
    return std::string(take(static_cast<size_t>(n)), static_cast<size_t>(n));
  }
  c10::IValue long1() {
    const uint8_t n = byte();
    if (n > 8) fail("an integer of " + std::to_string(n) + " bytes is too large");
    const auto* p = reinterpret_cast<const uint8_t*>(take(n));
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }
  c10::IValue binfloat() {
    const auto* p = reinterpret_cast<const uint8_t*>(take(8));
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }

  void push(c10::IValue v) { stack_.push_back({Item::Kind::Value, std::move(v)}); }
  Item pop(const char* what) {
    if (stack_.empty() || stack_.back().kind == Item::Kind::Mark) fail(std::string(what) + " on an empty stack");
    Item item = std::move(stack_.back());
    stack_.pop_back();
    return item;
  }
  // A global can enter containers only as a tagged string (see kGlobalTag).
  c10::IValue asValue(Item item) const {
    if (item.kind == Item::Kind::Global) return kGlobalTag + item.name;
    return std::move(item.value);
  }
  c10::IValue popValue(const char* what) { return asValue(pop(what)); }
  c10::IValue topValue(const char* what) {
    if (stack_.empty() || stack_.back().kind != Item::Kind::Value) fail(std::string(what) + " without a container");
    return stack_.back().value;
  }
  std::vector<c10::IValue> popToMark() {
    std::vector<c10::IValue> items;
    while (!stack_.empty() && stack_.back().kind != Item::Kind::Mark) {
      items.push_back(asValue(std::move(stack_.back())));
      stack_.pop_back();
    }
    if (stack_.empty()) fail("a MARK is missing");
    stack_.pop_back();
    std::reverse(items.begin(), items.end());
    return items;
  }
  void memoize(uint64_t index) {
    if (stack_.empty() || stack_.back().kind == Item::Kind::Mark) fail("PUT on an empty stack");
    memo_[index] = stack_.back();
  }
  void recall(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("GET of memo entry " + std::to_string(index) + ", which was never PUT");
    stack_.push_back(it->second);
  }

  // Nesting: the height of each container, raised as containers go into containers; refused past
  // kMaxDepth before the insertion (a cycle keeps raising it, so it is refused too). Containers are
  // known by address, so every container seen is kept alive until the end: a freed one's address
  // must not come back as another container's.
  const void* key(const c10::IValue& v) {
    const void* k = v.internalToPointer();
    if (seen_.insert(k).second) alive_.push_back(v);
    return k;
  }
  void raise(const void* node, int h) {
    std::vector<std::pair<const void*, int>> work{{node, h}};
    while (!work.empty()) {
      auto [n, height] = work.back();
      work.pop_back();
      if (height > kMaxDepth)
        fail("values nest deeper than " + std::to_string(kMaxDepth) + " levels (or refer to themselves)");
      auto& current = height_[n];
      if (height <= current) continue;
      current = height;
      for (const void* parent : parents_[n]) work.push_back({parent, height + 1});
    }
  }
  void adopt(const c10::IValue& container, const c10::IValue& child) {
    if (!isContainer(child)) return;
    parents_[key(child)].push_back(key(container));  // first, so that a cycle keeps raising itself
    raise(key(container), height_[key(child)] + 1);
  }
  void append(c10::impl::GenericList& list, c10::IValue v) {
    adopt(c10::IValue(list), v);
    list.push_back(std::move(v));
  }
  void setItems(c10::impl::GenericDict& dict, std::vector<c10::IValue> items) {
    if (items.size() % 2 != 0) fail("a dict entry without a value");
    for (size_t i = 0; i < items.size(); i += 2) {
      const auto& k = items[i];
      if (!(k.isString() || k.isInt() || k.isBool() || k.isDouble() || k.isNone()))
        fail("a dict key that is not a string or number");
      adopt(c10::IValue(dict), items[i + 1]);
      dict.insert_or_assign(k, items[i + 1]);
    }
  }
  c10::IValue makeTuple(std::vector<c10::IValue> items) {
    auto tuple = c10::ivalue::Tuple::create(std::vector<c10::IValue>(items));
    c10::IValue value(tuple);
    for (const auto& item : items) adopt(value, item);
    return value;
  }

  void pushGlobal(const std::string& module, const std::string& name) {
    Item item{Item::Kind::Global};
    item.name = module + "." + name;
    if (module == "torch._utils" && name == "_rebuild_tensor_v2") item.global = Global::RebuildTensor;
    else if (module == "torch._utils" && name == "_rebuild_parameter") item.global = Global::RebuildParameter;
    else if (module == "collections" && name == "OrderedDict") item.global = Global::OrderedDict;
    else if (module == "torch" && storageTypes().count(name)) item.global = Global::Storage;
    else if (module == "torch.jit._pickle" && name == "restore_type_tag") item.global = Global::TypeTag;
    else if (module == "torch.jit._pickle" && (name == "build_intlist" || name == "build_doublelist" ||
                                               name == "build_boollist" || name == "build_tensorlist")) {
      item.global = Global::SpecializedList;
    } else {
      fail("refused: the pickle refers to " + module + "." + name +
           "; only tensors, lists, tuples, dicts, numbers and strings are read from .pt files (nothing in the file was "
           "run)");
    }
    stack_.push_back(std::move(item));
  }

  // ('storage', torch.<T>Storage, key, location, numel[, view]) -> the storage as a 1-D tensor.
  c10::IValue persistentStorage(const c10::IValue& pid, size_t where) {
    if (!source_) fail("a persistent id (a tensor's storage) in a pickle that holds no tensors");
    if (!pid.isTuple()) fail("a persistent id that is not a tuple");
    const auto elements = pid.toTupleRef().elements().vec();
    const size_t fields = source_->legacy() ? 6 : 5;
    if (elements.size() != fields || !elements[0].isString() || elements[0].toStringRef() != "storage" ||
        !elements[1].isString() || !elements[2].isString() || !elements[4].isInt()) {
      fail(std::string("a persistent id that is not ('storage', type, key, location, numel") +
           (source_->legacy() ? ", view)" : ")"));
    }
    const auto& type = elements[1].toStringRef();
    const auto prefix = kGlobalTag + "torch.";
    if (type.compare(0, prefix.size(), prefix) != 0 || !storageTypes().count(type.substr(prefix.size()))) {
      fail("a storage whose type is not one of torch's typed storages");
    }
    StorageRef ref;
    ref.dtype = storageTypes().at(type.substr(prefix.size()));
    ref.key = elements[2].toStringRef();
    ref.numel = elements[4].toInt();
    if (ref.numel < 0) fail("storage " + ref.key + " claims a negative size (" + std::to_string(ref.numel) + ")");
    if (fields == 6) ref.view = elements[5];
    auto storage = source_->storage(ref, where);
    storageImpls_.insert(storage.unsafeGetTensorImpl());
    return storage;
  }

  std::vector<int64_t> ints(const c10::IValue& v, const char* what) const {
    if (!v.isTuple()) fail(std::string("a tensor whose ") + what + " is not a tuple");
    std::vector<int64_t> out;
    for (const auto& e : v.toTupleRef().elements()) {
      if (!e.isInt() || e.toInt() < 0)
        fail(std::string("a tensor whose ") + what + " holds something other than a non-negative integer");
      out.push_back(e.toInt());
    }
    return out;
  }

  void reduce() {
    const auto args = popValue("REDUCE");
    Item callable = pop("REDUCE");
    if (callable.kind != Item::Kind::Global) fail("REDUCE of something that is not a known function");
    if (!args.isTuple()) fail("REDUCE with arguments that are not a tuple");
    const auto a = args.toTupleRef().elements().vec();
    switch (callable.global) {
      case Global::RebuildTensor: {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.size() < 4 || !a[0].isTensor() || !a[1].isInt()) fail("_rebuild_tensor_v2 with unexpected arguments");
        const auto storage = a[0].toTensor();
        if (!storageImpls_.count(storage.unsafeGetTensorImpl()))
          fail("_rebuild_tensor_v2 of a tensor rather than of a storage named by a persistent id");
        const int64_t offset = a[1].toInt();
        const auto sizes = ints(a[2], "size");
        const auto strides = ints(a[3], "stride");
        if (sizes.size() != strides.size()) fail("a tensor whose size and stride differ in length");
        int64_t last = offset;
        bool empty = false;
        for (size_t d = 0; d < sizes.size(); ++d) {
          if (sizes[d] == 0) empty = true;
          else last += (sizes[d] - 1) * strides[d];
        }
        if (offset < 0 || (!empty && last >= storage.numel())) fail("a tensor that reaches outside its storage");
        push(empty ? torch::empty(sizes, torch::TensorOptions().dtype(storage.scalar_type()))
                   : source_->tensor(storage, sizes, strides, offset));
        break;
      }
      case Global::RebuildParameter:
        if (a.empty() || !a[0].isTensor()) fail("_rebuild_parameter with unexpected arguments");
        push(a[0].toTensor());
        break;
      case Global::OrderedDict:
        if (!a.empty()) fail("OrderedDict with arguments");
        push(c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get()));
        break;
      case Global::TypeTag:  // (value, type string): the value
        if (a.size() != 2 || !a[1].isString()) fail("restore_type_tag with unexpected arguments");
        push(a[0]);
        break;
      case Global::SpecializedList:  // (list,): the list
        if (a.size() != 1 || !a[0].isList()) fail("a typed list with unexpected arguments");
        push(a[0]);
        break;
      case Global::Storage: fail("a storage type called as a function");
    }
  }

  const std::string& path_;
  const char* data_;
  size_t size_;
  StorageSource* source_;
  std::string what_;
  size_t pos_ = 0;
  std::vector<Item> stack_;
  std::unordered_map<uint64_t, Item> memo_;
  std::unordered_set<const void*> storageImpls_;
  std::unordered_map<const void*, int> height_;
  std::unordered_set<const void*> seen_;
  std::vector<c10::IValue> alive_;
  std::unordered_map<const void*, std::vector<const void*>> parents_;
};

// The storages of a zip archive: record data/<key>, read when first named.
class ZipStorages final : public StorageSource {
 public:
  ZipStorages(const std::string& path, caffe2::serialize::PyTorchStreamReader& reader) : path_(path), reader_(reader) {}

  bool legacy() const override { return false; }

  at::Tensor storage(const StorageRef& ref, size_t) override {
    const auto cached = storages_.find(ref.key);
    if (cached != storages_.end()) return cached->second;
    const std::string record = "data/" + ref.key;
    if (!reader_.hasRecord(record)) fail("the archive has no record " + record + " for a storage the pickle names");
    at::DataPtr ptr;
    size_t bytes = 0;
    std::tie(ptr, bytes) = reader_.getRecord(record);
    const size_t elementSize = c10::elementSize(ref.dtype);
    if (static_cast<uint64_t>(ref.numel) > bytes / elementSize) {
      fail("storage " + ref.key + " should hold " + std::to_string(ref.numel) + " values but its record has " +
           std::to_string(bytes) + " bytes");
    }
    auto storage = torch::empty({ref.numel}, torch::TensorOptions().dtype(ref.dtype));
    if (ref.numel > 0) std::memcpy(storage.data_ptr(), ptr.get(), static_cast<size_t>(ref.numel) * elementSize);
    storages_[ref.key] = storage;
    return storage;
  }

  at::Tensor tensor(const at::Tensor& storage, const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                    int64_t offset) override {
    return storage.as_strided(sizes, strides, offset).clone();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": " + what); }

  const std::string& path_;
  caffe2::serialize::PyTorchStreamReader& reader_;
  std::unordered_map<std::string, at::Tensor> storages_;
};

// The storages of a legacy file, whose values follow the pickles: while the pickle is read, each
// storage is a placeholder on the meta device (sizes only, nothing allocated) and each tensor an
// allocated tensor waiting for its values; fill() then reads the storages one at a time and copies
// each one's tensors out of it. A storage's claimed size is checked against the bytes left in the
// file before anything of it is allocated.
class LegacyStorages final : public StorageSource {
 public:
  // `pickleStart`: where the pickle that names the storages begins in the file.
  LegacyStorages(const std::string& path, uint64_t fileSize, uint64_t pickleStart)
      : path_(path), fileSize_(fileSize), pickleStart_(pickleStart) {}

  bool legacy() const override { return true; }

  at::Tensor storage(const StorageRef& ref, size_t where) override {
    auto found = roots_.find(ref.key);
    if (found == roots_.end()) {
      // the storage's values and its 8-byte size come after this point, with those of the others named so far
      const uint64_t left = fileSize_ - std::min<uint64_t>(fileSize_, pickleStart_ + where);
      const uint64_t free = left > claimed_ ? left - claimed_ : 0;
      const uint64_t elementSize = c10::elementSize(ref.dtype);
      if (free < 8 || static_cast<uint64_t>(ref.numel) > (free - 8) / elementSize) {
        fail("storage " + ref.key + " claims " + std::to_string(ref.numel) + " values of " +
             std::to_string(elementSize) + " bytes, more than the " + std::to_string(free) +
             " bytes the file has left for it (a corrupt or truncated file; nothing was allocated)");
      }
      claimed_ += 8 + static_cast<uint64_t>(ref.numel) * elementSize;
      Root root;
      root.dtype = ref.dtype;
      root.numel = ref.numel;
      root.placeholder = placeholder(ref.dtype, ref.numel, ref.key, 0);
      found = roots_.emplace(ref.key, std::move(root)).first;
    } else if (found->second.dtype != ref.dtype || found->second.numel != ref.numel) {
      fail("storage " + ref.key + " is named with two different types or sizes");
    }
    const Root& root = found->second;
    if (ref.view.isNone()) return root.placeholder;
    // (view key, offset, numel): part of the storage
    const bool shaped = ref.view.isTuple() && ref.view.toTupleRef().elements().size() == 3;
    const auto v = shaped ? ref.view.toTupleRef().elements().vec() : std::vector<c10::IValue>{};
    if (!shaped || !v[0].isString() || !v[1].isInt() || !v[2].isInt()) {
      fail("storage " + ref.key + " has a view that is not None or (key, offset, numel)");
    }
    const int64_t offset = v[1].toInt();
    const int64_t numel = v[2].toInt();
    if (offset < 0 || numel < 0 || offset > root.numel || numel > root.numel - offset) {
      fail("a view of storage " + ref.key + " (" + std::to_string(numel) + " values from " + std::to_string(offset) +
           ") reaches outside its " + std::to_string(root.numel) + " values");
    }
    const auto& key = v[0].toStringRef();
    const auto view = views_.find(key);
    if (view != views_.end()) {
      const auto& p = placeholders_.at(view->second.unsafeGetTensorImpl());
      if (p.root != ref.key || p.offset != offset || view->second.numel() != numel)
        fail("view " + key + " is named as two different parts of storages");
      return view->second;
    }
    return views_[key] = placeholder(ref.dtype, numel, ref.key, offset);
  }

  at::Tensor tensor(const at::Tensor& storage, const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                    int64_t offset) override {
    const auto& p = placeholders_.at(storage.unsafeGetTensorImpl());
    auto out = torch::empty(sizes, torch::TensorOptions().dtype(storage.scalar_type()));
    roots_.at(p.root).pending.push_back({out, sizes, strides, p.offset + offset});
    return out;
  }

  // The storage keys listed after the pickle, whose sizes and values start at `dataStart`.
  void fill(const std::vector<std::string>& keys, uint64_t dataStart) {
    std::unordered_set<std::string> listed;
    for (const auto& key : keys) {
      if (!roots_.count(key)) fail("the file lists storage " + key + ", which its pickle never names");
      if (!listed.insert(key).second) fail("the file lists storage " + key + " twice");
    }
    for (const auto& entry : roots_) {
      if (!listed.count(entry.first))
        fail("the pickle names storage " + entry.first + ", but the file does not list its values");
    }
    std::ifstream in(path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(dataStart));
    if (!in) fail("cannot be read past its pickles");
    uint64_t pos = dataStart;
    for (const auto& key : keys) {
      Root& root = roots_.at(key);
      if (fileSize_ - pos < 8) fail("the file ends early: the size of storage " + key + " is missing (truncated)");
      uint8_t raw[8];
      in.read(reinterpret_cast<char*>(raw), 8);
      if (in.gcount() != 8) fail("reading the size of storage " + key + " failed");
      pos += 8;
      uint64_t count = 0;
      for (int i = 8; i-- > 0;) count = (count << 8) | raw[i];
      if (count != static_cast<uint64_t>(root.numel)) {
        fail("storage " + key + ": the pickle says " + std::to_string(root.numel) +
             " values, the data that follows it " + std::to_string(count));
      }
      const uint64_t bytes = static_cast<uint64_t>(root.numel) * c10::elementSize(root.dtype);
      if (bytes > fileSize_ - pos) {
        fail("the file ends early: storage " + key + " needs " + std::to_string(bytes) + " bytes, " +
             std::to_string(fileSize_ - pos) + " are left (truncated)");
      }
      auto values = torch::empty({root.numel}, torch::TensorOptions().dtype(root.dtype));
      if (bytes > 0) {
        in.read(static_cast<char*>(values.data_ptr()), static_cast<std::streamsize>(bytes));
        if (static_cast<uint64_t>(in.gcount()) != bytes) fail("reading the values of storage " + key + " failed");
      }
      pos += bytes;
      for (auto& t : root.pending) t.out.copy_(values.as_strided(t.sizes, t.strides, t.offset));
      root.pending.clear();
    }
  }

 private:
  struct Pending {
    at::Tensor out;
    std::vector<int64_t> sizes, strides;
    int64_t offset;
  };
  struct Root {
    at::ScalarType dtype;
    int64_t numel;
    at::Tensor placeholder;
    std::vector<Pending> pending;
  };
  struct Placeholder {
    std::string root;
    int64_t offset;  // into the root storage
  };

  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": " + what); }

  at::Tensor placeholder(at::ScalarType dtype, int64_t numel, const std::string& root, int64_t offset) {
    auto t = torch::empty({numel}, torch::TensorOptions().dtype(dtype).device(at::kMeta));
    placeholders_[t.unsafeGetTensorImpl()] = {root, offset};
    return t;
  }

  const std::string& path_;
  uint64_t fileSize_;
  uint64_t pickleStart_;
  uint64_t claimed_ = 0;  // bytes of the storages named so far, with their 8-byte sizes
  std::map<std::string, Root> roots_;
  std::unordered_map<std::string, at::Tensor> views_;
  std::unordered_map<const void*, Placeholder> placeholders_;
};

// Refuses a storage that reached the unpickled value other than inside a tensor.
void refuseBareStorages(const std::string& path, const c10::IValue& value,
                        const std::unordered_set<const void*>& storages) {
  std::vector<c10::IValue> work{value};
  std::unordered_set<const void*> seen;
  while (!work.empty()) {
    const auto v = std::move(work.back());
    work.pop_back();
    if (v.isTensor()) {
      if (storages.count(v.toTensor().unsafeGetTensorImpl()))
        throw std::runtime_error(path + ": the value holds a bare storage; only tensors are read from .pt files");
    } else if (isContainer(v) && seen.insert(v.internalToPointer()).second) {
      if (v.isList()) {
        for (const auto& e : v.toList()) work.push_back(e);
      } else if (v.isTuple()) {
        for (const auto& e : v.toTupleRef().elements()) work.push_back(e);
      } else {
        for (const auto& e : v.toGenericDict()) work.push_back(e.value());
      }
    }
  }
}

uint64_t fileSize(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error(path + ": cannot be opened");
  return static_cast<uint64_t>(in.tellg());
}

std::string firstBytes(const std::string& path, uint64_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot be opened");
  std::string head(static_cast<size_t>(n), '\0');
  in.read(&head[0], static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

const char* const kNotTorch = ": not a file written by torch.save (expected a zip archive or torch's legacy format)";

// The legacy format from its head (the file's first bytes, enough to hold its pickles, else
// PickleTruncated): the magic number, the version, the system's description, the value, the list
// of storage keys; then, for each key, its size (8 bytes) and values (LegacyStorages::fill).
c10::IValue readLegacy(const std::string& path, const std::string& head, uint64_t size) {
  // the magic number: PROTO n, [FRAME], LONG1 of 10 bytes, STOP
  size_t pos = 0;
  const auto byteAt = [&](size_t i) -> uint8_t {
    if (i >= head.size()) throw PickleTruncated(path + ": the file ends early (truncated or corrupt)");
    return static_cast<uint8_t>(head[i]);
  };
  if (byteAt(pos) != 0x80) throw std::runtime_error(path + kNotTorch);
  pos += 2;
  if (byteAt(pos) == 0x95) pos += 9;  // FRAME and its length
  bool magic = byteAt(pos) == 0x8a && byteAt(pos + 1) == 10;
  for (size_t i = 0; magic && i < 10; ++i) magic = byteAt(pos + 2 + i) == kLegacyMagic[i];
  if (!magic || byteAt(pos + 12) != '.') throw std::runtime_error(path + kNotTorch);
  pos += 13;

  const auto plain = [&](const char* what) {
    Unpickler unpickler(path, head.data() + pos, head.size() - pos, nullptr, what);
    auto value = unpickler.run();
    pos += unpickler.position();
    return value;
  };
  const auto version = plain("the legacy format's version");
  if (!version.isInt() || version.toInt() != kLegacyVersion) {
    throw std::runtime_error(path + ": torch's legacy format of version " +
                             (version.isInt() ? std::to_string(version.toInt()) : std::string("(not a number)")) +
                             ", expected " + std::to_string(kLegacyVersion));
  }
  const auto system = plain("the legacy format's system description");
  if (!system.isGenericDict())
    throw std::runtime_error(path + ": the legacy format's system description is not a dict");
  const auto dict = system.toGenericDict();
  const auto little = dict.find(std::string("little_endian"));
  if (little != dict.end() && (!little->value().isBool() || little->value().toBool() != hostIsLittleEndian())) {
    throw std::runtime_error(path + ": written on a machine of the other byte order; load it there and save it again");
  }

  LegacyStorages storages(path, size, pos);
  Unpickler main(path, head.data() + pos, head.size() - pos, &storages, "the file");
  auto value = main.run();
  pos += main.position();
  refuseBareStorages(path, value, main.storageImpls());

  const auto listed = plain("the list of storages");
  if (!listed.isList()) throw std::runtime_error(path + ": the list of storages after the pickle is not a list");
  std::vector<std::string> keys;
  const auto list = listed.toList();
  for (size_t i = 0; i < list.size(); ++i) {
    const auto key = list.get(i);
    if (!key.isString()) throw std::runtime_error(path + ": the list of storages holds something other than a key");
    keys.push_back(key.toStringRef());
  }
  storages.fill(keys, pos);
  return value;
}

c10::IValue loadLegacy(const std::string& path, uint64_t size) {
  // the pickles come first and are small next to the values: read the head, more if they go on
  uint64_t headSize = std::min<uint64_t>(size, uint64_t{1} << 20);
  while (true) {
    const auto head = firstBytes(path, headSize);
    try {
      return readLegacy(path, head, size);
    } catch (const PickleTruncated&) {
      if (head.size() >= size) throw;
      headSize = std::min<uint64_t>(size, headSize * 4);
    }
  }
}

// Writes a value as Python's pickle (protocol 2) and torch.save do: lists, tuples, dicts, None,
// booleans, integers, floats, strings, and tensors as torch._utils._rebuild_tensor_v2 of a
// persistent id ('storage', torch.<T>Storage, key, 'cpu', numel) whose values the caller writes
// as data/<key>. Only the globals that torch.load(weights_only=True) allows are named, and only
// opcodes its unpickler reads (PyTorch 1.13's has no BINFLOAT: floats other than tensors need 2.x).
class TorchPickler {
 public:
  std::string run(const c10::IValue& value) {
    out_ = "\x80\x02";  // PROTO 2
    put(value, 0);
    out_ += '.';
    return std::move(out_);
  }
  // The tensors, in the order of their keys ("0", "1", ...).
  const std::vector<at::Tensor>& tensors() const { return tensors_; }

 private:
  void op(uint8_t code) { out_ += static_cast<char>(code); }
  void littleEndian(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      littleEndian(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      op('M');
      littleEndian(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      littleEndian(static_cast<uint64_t>(v), 4);
    } else {
      op(0x8a);  // LONG1: 8 bytes of two's complement
      op(8);
      littleEndian(static_cast<uint64_t>(v), 8);
    }
  }
  void unicode(const std::string& s) {
    op('X');  // BINUNICODE
    littleEndian(s.size(), 4);
    out_ += s;
  }
  void global(const char* module, const std::string& name) {
    op('c');
    out_ += module;
    out_ += '\n';
    out_ += name;
    out_ += '\n';
  }
  void ints(c10::IntArrayRef values) {
    if (values.empty()) return op(')');
    op('(');
    for (const auto v : values) integer(v);
    op('t');
  }
  void tensor(at::Tensor t) {
    if (t.requires_grad()) t = t.detach();
    t = t.cpu().contiguous();
    const auto& types = storageTypes();
    const auto type =
        std::find_if(types.begin(), types.end(), [&](const auto& e) { return e.second == t.scalar_type(); });
    if (type == types.end())
      throw std::runtime_error(std::string("cannot save a tensor of dtype ") + toString(t.scalar_type()));
    const auto key = std::to_string(tensors_.size());
    tensors_.push_back(t);
    global("torch._utils", "_rebuild_tensor_v2");
    op('(');
    op('(');  // the persistent id
    unicode("storage");
    global("torch", type->first);
    unicode(key);
    unicode("cpu");
    integer(t.numel());
    op('t');
    op('Q');  // BINPERSID
    integer(0);
    ints(t.sizes());
    ints(t.strides());
    op(0x89);  // requires_grad: False
    global("collections", "OrderedDict");
    op(')');
    op('R');  // backward hooks: OrderedDict()
    op('t');
    op('R');
  }
  void put(const c10::IValue& v, int depth) {
    if (depth > kMaxDepth) throw std::runtime_error("values nest deeper than " + std::to_string(kMaxDepth) + " levels");
    if (v.isNone()) {
      op('N');
    } else if (v.isBool()) {
      op(v.toBool() ? 0x88 : 0x89);
    } else if (v.isInt()) {
      integer(v.toInt());
    } else if (v.isDouble()) {
      op('G');  // BINFLOAT, big-endian
      uint64_t bits;
      const double d = v.toDouble();
      std::memcpy(&bits, &d, sizeof bits);
      for (int i = 8; i-- > 0;) out_ += static_cast<char>((bits >> (8 * i)) & 0xff);
    } else if (v.isString()) {
      unicode(v.toStringRef());
    } else if (v.isTensor()) {
      tensor(v.toTensor());
    } else if (v.isList()) {
      op(']');
      const auto list = v.toList();
      if (list.empty()) return;
      op('(');
      for (const auto& e : list) put(e, depth + 1);
      op('e');  // APPENDS
    } else if (v.isTuple()) {
      const auto& elements = v.toTupleRef().elements();
      if (elements.empty()) return op(')');
      op('(');
      for (const auto& e : elements) put(e, depth + 1);
      op('t');
    } else if (v.isGenericDict()) {
      op('}');
      const auto dict = v.toGenericDict();
      if (dict.empty()) return;
      op('(');
      for (const auto& e : dict) {
        put(e.key(), depth + 1);
        put(e.value(), depth + 1);
      }
      op('u');  // SETITEMS
    } else {
      throw std::runtime_error("cannot save a value of type " + v.tagKind());
    }
  }

  std::string out_;
  std::vector<at::Tensor> tensors_;
};

}  // namespace

c10::IValue loadTorchFile(const std::string& path) {
  const auto size = fileSize(path);
  const auto head = firstBytes(path, 4);
  if (!head.empty() && static_cast<uint8_t>(head[0]) == 0x80) return loadLegacy(path, size);
  if (head.size() < 4 || head.compare(0, 4, "PK\x03\x04") != 0) throw std::runtime_error(path + kNotTorch);
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("data.pkl"))
      throw std::runtime_error(path + ": a zip archive without data.pkl, so not a torch.save file");
    at::DataPtr pickle;
    size_t bytes = 0;
    std::tie(pickle, bytes) = reader.getRecord("data.pkl");
    ZipStorages storages(path, reader);
    Unpickler unpickler(path, static_cast<const char*>(pickle.get()), bytes, &storages, "data.pkl");
    return unpickler.run();
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a readable torch.save archive (" + e.what_without_backtrace() + ")");
  }
}

void saveTorchFile(const std::string& path, const c10::IValue& value) {
  TorchPickler pickler;
  std::string pickle;
  try {
    pickle = pickler.run(value);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(path + ": cannot be written");
  try {
    // the writer's callback never reports a failure: the writer would throw it from its destructor
    caffe2::serialize::PyTorchStreamWriter writer([&out](const void* data, size_t n) -> size_t {
      out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
      return n;
    });
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    const std::string order = hostIsLittleEndian() ? "little" : "big";
    writer.writeRecord("byteorder", order.data(), order.size());
    const auto& tensors = pickler.tensors();
    for (size_t i = 0; i < tensors.size(); ++i)
      writer.writeRecord("data/" + std::to_string(i), tensors[i].data_ptr(), tensors[i].nbytes());
    writer.writeEndOfFile();
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": writing failed (" + e.what_without_backtrace() + ")");
  }
  out.close();
  if (!out) throw std::runtime_error(path + ": writing failed (is the disk full?)");
}

}  // namespace trajmatch::io
