// torch.save's file format without Python. A zip archive holds <name>/data.pkl (a pickle) and
// <name>/data/<key> (the raw bytes of each tensor storage); this is how the published MTT and MCT
// code stores its expert buffers. The legacy format (torch.save(..., _use_new_zipfile_serialization=False)
// and PyTorch before 1.6) is one stream: pickles of a magic number, the version 1001 and a dict
// describing the system, then the value's pickle, whose persistent ids are ('storage', type, key,
// location, numel, view), then a pickled list of the storage keys, then for each key its element
// count (8 bytes, little-endian) and its values.
//
// Reading runs a restricted unpickler of our own over the pickles: it builds plain data only (lists,
// tuples, dicts, strings, numbers, booleans, None and tensors) and knows a fixed list of globals
// (torch._utils._rebuild_tensor_v2 and _rebuild_parameter, collections.OrderedDict, the typed
// storages, and the type tags and typed lists that libtorch's torch::pickle_save wrote in the files
// of our earlier versions); any other global, and every opcode that builds objects (INST, OBJ,
// NEWOBJ, EXT*; BUILD except for an OrderedDict's attributes, which are dropped), is refused before
// anything is made of it. Nothing in a file is ever executed. A storage's size is checked against
// its record (zip) or against the bytes left in the file (legacy) before it is allocated.
// libtorch's own unpickler (torch::pickle_load) is not used for reading because the one of libtorch
// 1.13 lacks the APPEND and SETITEM opcodes that Python writes for one-element lists and dicts, and
// the _rebuild_parameter global; the zip container is read with libtorch's PyTorchStreamReader.
//
// Writing pickles the value as Python's torch.save does (protocol 2, plain lists and tuples, tensors
// by _rebuild_tensor_v2 of a storage), so that torch.load(f, weights_only=True), the default of
// PyTorch 2.6 and newer, loads it; the archive is written with libtorch's PyTorchStreamWriter.
#pragma once

#include <ATen/core/ivalue.h>

#include <string>

namespace trajmatch::io {

// The value saved in a torch.save file (zip or legacy). Throws std::runtime_error naming the file
// and what is wrong (not a torch.save file, a refused global or opcode, a tensor outside its
// storage, a storage larger than the file, a truncated file, ...).
c10::IValue loadTorchFile(const std::string& path);

// Writes `value` (lists, tuples, dicts, None, booleans, numbers, strings and tensors) as
// torch.save would, in the zip format.
void saveTorchFile(const std::string& path, const c10::IValue& value);

}  // namespace trajmatch::io
