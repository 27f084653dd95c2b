/*
 * run_signature: run requests against a SavedModel through the TensorFlow C API, with no Python.
 *
 * This mirrors how stock TF Serving loads and runs a model: TF Serving's SavedModelBundle
 * (tensorflow::LoadSavedModel with the "serve" tag) imports the MetaGraphDef, restores the
 * variables and runs the init ops; each Predict request then becomes one Session::Run that feeds
 * and fetches the graph tensor names its SignatureDef maps the request's input/output keys to.
 * Here TF_LoadSessionFromSavedModel (a thin C wrapper of LoadSavedModel) does the loading and each
 * "--run" is one TF_SessionRun. The SignatureDef itself is resolved by the caller (zoo/export/capi.py
 * parses saved_model.pb); this program only sees graph tensor names such as "encode_x:0".
 *
 * Usage:
 *   run_signature [--tag TAG]... [--maps FILE] EXPORT_DIR RUN [RUN ...]
 *   RUN := --run [-i TENSOR=FILE]... -o TENSOR=FILE [-o TENSOR=FILE]...
 *
 *   --tag TAG   MetaGraphDef tag (repeatable); default: the single tag "serve".
 *   --maps FILE after all runs, write the paths of the files mapped into this process (from
 *               /proc/self/maps, one per line, deduplicated) to FILE, so the caller can verify
 *               that no libpython was loaded.
 *   -i T=FILE   feed graph tensor T ("op_name:index") with the tensor stored in FILE.
 *   -o T=FILE   fetch graph tensor T and write it to FILE.
 *
 * Tensor file format (every integer little-endian; this program refuses big-endian hosts):
 *   offset 0   4 bytes   magic "ZTF1"
 *   offset 4   uint32    dtype, the TF_DataType / DataType enum value: 1 float32, 2 float64,
 *                        3 int32, 4 uint8, 5 int16, 6 int8, 7 string, 9 int64, 10 bool, 19 float16
 *   offset 8   uint32    rank R (0 for a scalar)
 *   offset 12  int64[R]  dims
 *   then       raw element data, C (row-major) order, little-endian, prod(dims) * itemsize bytes
 *              (no padding, nothing after it); for dtype 7 (string) instead, per element in C
 *              order: uint64 byte length, then that many bytes.
 *
 * Exit status: 0 success; 2 usage error; 3 tensor file error (I/O, format, unsupported dtype);
 * 4 the SavedModel failed to load; 5 a feed/fetch tensor is not in the graph or has the wrong
 * dtype; 6 TF_SessionRun failed. Every failure prints one line starting "run_signature: " to
 * stderr, which for TF failures holds the TF status code name and TF_Message verbatim.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensorflow/c/c_api.h"
#include "tensorflow/c/tf_tstring.h"

#define MAX_RANK 32

enum { EXIT_USAGE = 2, EXIT_FILE = 3, EXIT_LOAD = 4, EXIT_GRAPH = 5, EXIT_RUN = 6 };

static void die(int code, const char *fmt, ...) {
  va_list ap;
  fputs("run_signature: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(code);
}

static const char *code_name(TF_Code code) {
  switch (code) {
    case TF_OK: return "OK";
    case TF_CANCELLED: return "CANCELLED";
    case TF_UNKNOWN: return "UNKNOWN";
    case TF_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case TF_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case TF_NOT_FOUND: return "NOT_FOUND";
    case TF_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case TF_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case TF_UNAUTHENTICATED: return "UNAUTHENTICATED";
    case TF_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case TF_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case TF_ABORTED: return "ABORTED";
    case TF_OUT_OF_RANGE: return "OUT_OF_RANGE";
    case TF_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case TF_INTERNAL: return "INTERNAL";
    case TF_UNAVAILABLE: return "UNAVAILABLE";
    case TF_DATA_LOSS: return "DATA_LOSS";
    default: return "UNKNOWN_CODE";
  }
}

/* Fixed-width dtypes this program moves as raw bytes; 0 for anything else (e.g. strings). */
static size_t dtype_size(uint32_t dtype) {
  switch (dtype) {
    case TF_FLOAT: return 4;
    case TF_DOUBLE: return 8;
    case TF_INT32: return 4;
    case TF_UINT8: return 1;
    case TF_INT16: return 2;
    case TF_INT8: return 1;
    case TF_INT64: return 8;
    case TF_BOOL: return 1;
    case TF_HALF: return 2;
    default: return 0;
  }
}

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}
static void put_i64(unsigned char *p, int64_t v) {
  uint64_t u = (uint64_t)v;
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(u >> (8 * i));
}
static int64_t get_i64(const unsigned char *p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u |= (uint64_t)p[i] << (8 * i);
  return (int64_t)u;
}

static void read_exact(FILE *f, void *buf, size_t n, const char *path, const char *what) {
  if (n && fread(buf, 1, n, f) != n)
    die(EXIT_FILE, "%s: truncated tensor file (reading %s, %zu bytes)", path, what, n);
}

static TF_Tensor *read_tensor(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) die(EXIT_FILE, "%s: cannot open tensor file: %s", path, strerror(errno));
  unsigned char head[12];
  read_exact(f, head, sizeof head, path, "header");
  if (memcmp(head, "ZTF1", 4) != 0) die(EXIT_FILE, "%s: not a tensor file (bad magic)", path);
  uint32_t dtype = get_u32(head + 4), rank = get_u32(head + 8);
  size_t itemsize = dtype == TF_STRING ? sizeof(TF_TString) : dtype_size(dtype);
  if (!itemsize) die(EXIT_FILE, "%s: unsupported dtype enum %u", path, dtype);
  if (rank > MAX_RANK) die(EXIT_FILE, "%s: rank %u exceeds %d", path, rank, MAX_RANK);
  int64_t dims[MAX_RANK];
  size_t count = 1;
  for (uint32_t d = 0; d < rank; d++) {
    unsigned char b[8];
    read_exact(f, b, 8, path, "dims");
    dims[d] = get_i64(b);
    if (dims[d] < 0) die(EXIT_FILE, "%s: negative dim %lld", path, (long long)dims[d]);
    count *= (size_t)dims[d];
  }
  size_t nbytes = count * itemsize;
  TF_Tensor *t = TF_AllocateTensor((TF_DataType)dtype, dims, (int)rank, nbytes);
  if (!t) die(EXIT_FILE, "%s: TF_AllocateTensor failed (%zu bytes)", path, nbytes);
  if (dtype == TF_STRING) {
    /* Each element: uint64 length, then the bytes; copied into the tensor's TF_TStrings. */
    TF_TString *strings = (TF_TString *)TF_TensorData(t);
    for (size_t i = 0; i < count; i++) {
      unsigned char b[8];
      read_exact(f, b, 8, path, "string length");
      int64_t len = get_i64(b);
      if (len < 0 || len > (int64_t)1 << 40) die(EXIT_FILE, "%s: bad string length %lld", path, (long long)len);
      char *buf = malloc((size_t)len + 1);
      if (!buf) die(EXIT_FILE, "%s: out of memory for a %lld-byte string", path, (long long)len);
      read_exact(f, buf, (size_t)len, path, "string bytes");
      TF_StringInit(&strings[i]);
      TF_StringCopy(&strings[i], buf, (size_t)len);
      free(buf);
    }
  } else {
    read_exact(f, TF_TensorData(t), nbytes, path, "data");
  }
  if (fgetc(f) != EOF) die(EXIT_FILE, "%s: trailing bytes after %zu bytes of data", path, nbytes);
  fclose(f);
  return t;
}

static void write_strings(FILE *f, const char *path, const TF_Tensor *t, size_t count) {
  const TF_TString *strings = (const TF_TString *)TF_TensorData(t);
  for (size_t i = 0; i < count; i++) {
    size_t len = TF_StringGetSize(&strings[i]);
    unsigned char b[8];
    put_i64(b, (int64_t)len);
    if (fwrite(b, 1, 8, f) != 8 || (len && fwrite(TF_StringGetDataPointer(&strings[i]), 1, len, f) != len))
      die(EXIT_FILE, "%s: write failed: %s", path, strerror(errno));
  }
}

static void write_tensor(const char *path, const char *tensor_name, const TF_Tensor *t) {
  uint32_t dtype = (uint32_t)TF_TensorType(t);
  size_t itemsize = dtype == TF_STRING ? sizeof(TF_TString) : dtype_size(dtype);
  if (!itemsize) die(EXIT_FILE, "output %s: unsupported dtype enum %u", tensor_name, dtype);
  int rank = TF_NumDims(t);
  if (rank > MAX_RANK) die(EXIT_FILE, "output %s: rank %d exceeds %d", tensor_name, rank, MAX_RANK);
  size_t count = 1;
  for (int d = 0; d < rank; d++) count *= (size_t)TF_Dim(t, d);
  size_t nbytes = TF_TensorByteSize(t);
  if (nbytes != count * itemsize)
    die(EXIT_FILE, "output %s: %zu bytes for %zu elements of %zu bytes", tensor_name, nbytes, count, itemsize);
  FILE *f = fopen(path, "wb");
  if (!f) die(EXIT_FILE, "%s: cannot create tensor file: %s", path, strerror(errno));
  unsigned char head[12 + 8 * MAX_RANK];
  memcpy(head, "ZTF1", 4);
  put_u32(head + 4, dtype);
  put_u32(head + 8, (uint32_t)rank);
  for (int d = 0; d < rank; d++) put_i64(head + 12 + 8 * d, TF_Dim(t, d));
  size_t head_len = 12 + 8 * (size_t)rank;
  if (fwrite(head, 1, head_len, f) != head_len) die(EXIT_FILE, "%s: write failed: %s", path, strerror(errno));
  if (dtype == TF_STRING)
    write_strings(f, path, t, count);
  else if (nbytes && fwrite(TF_TensorData(t), 1, nbytes, f) != nbytes)
    die(EXIT_FILE, "%s: write failed: %s", path, strerror(errno));
  if (fclose(f) != 0) die(EXIT_FILE, "%s: write failed: %s", path, strerror(errno));
}

/* "op_name:index" (index defaults to 0) -> TF_Output in graph; dies if absent. */
static TF_Output graph_tensor(TF_Graph *graph, const char *name, const char *role) {
  char op_name[1024];
  const char *colon = strrchr(name, ':');
  long index = 0;
  size_t len = colon ? (size_t)(colon - name) : strlen(name);
  if (colon) {
    char *end;
    index = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || index < 0) die(EXIT_USAGE, "%s tensor %s: bad output index", role, name);
  }
  if (len == 0 || len >= sizeof op_name) die(EXIT_USAGE, "%s tensor %s: bad tensor name", role, name);
  memcpy(op_name, name, len);
  op_name[len] = '\0';
  TF_Operation *op = TF_GraphOperationByName(graph, op_name);
  if (!op) die(EXIT_GRAPH, "%s tensor %s: the graph has no operation named '%s'", role, name, op_name);
  if (index >= TF_OperationNumOutputs(op))
    die(EXIT_GRAPH, "%s tensor %s: operation '%s' has only %d output(s)", role, name, op_name,
        TF_OperationNumOutputs(op));
  TF_Output out = {op, (int)index};
  return out;
}

typedef struct {
  int n_in, n_out;
  const char **in_names, **in_files, **out_names, **out_files;
} Run;

/* Splits "TENSOR=FILE" at the last '=' (graph names cannot hold '='). */
static void split_pair(char *arg, const char **name, const char **file, const char *flag) {
  char *eq = strrchr(arg, '=');
  if (!eq || eq == arg || !eq[1]) die(EXIT_USAGE, "%s expects TENSOR=FILE, got '%s'", flag, arg);
  *eq = '\0';
  *name = arg;
  *file = eq + 1;
}

static void usage(void) {
  fputs("usage: run_signature [--tag TAG]... [--maps FILE] EXPORT_DIR --run [-i TENSOR=FILE]... "
        "-o TENSOR=FILE... [--run ...]\n", stderr);
  exit(EXIT_USAGE);
}

static void write_maps(const char *path) {
  FILE *in = fopen("/proc/self/maps", "r");
  if (!in) die(EXIT_FILE, "/proc/self/maps: %s", strerror(errno));
  FILE *out = fopen(path, "w");
  if (!out) die(EXIT_FILE, "%s: cannot create: %s", path, strerror(errno));
  char line[4096], last[4096] = "";
  while (fgets(line, sizeof line, in)) {
    char *p = strchr(line, '/');
    if (!p) continue;
    if (strcmp(p, last) != 0) fputs(p, out);
    snprintf(last, sizeof last, "%s", p);
  }
  fclose(in);
  if (fclose(out) != 0) die(EXIT_FILE, "%s: write failed", path);
}

int main(int argc, char **argv) {
  const uint16_t one = 1;
  if (*(const unsigned char *)&one != 1) die(EXIT_USAGE, "big-endian hosts are not supported");

  const char *tags[16];
  int n_tags = 0;
  const char *maps_path = NULL, *export_dir = NULL;
  Run *runs = calloc((size_t)argc, sizeof(Run));
  if (!runs) die(EXIT_USAGE, "out of memory");
  int n_runs = 0;
  Run *cur = NULL;

  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) usage();
    if (!strcmp(arg, "--tag") || !strcmp(arg, "--maps") || !strcmp(arg, "-i") || !strcmp(arg, "-o")) {
      if (a + 1 >= argc) die(EXIT_USAGE, "%s needs a value", arg);
      char *val = argv[++a];
      if (!strcmp(arg, "--tag")) {
        if (n_tags == 16) die(EXIT_USAGE, "too many tags");
        tags[n_tags++] = val;
      } else if (!strcmp(arg, "--maps")) {
        maps_path = val;
      } else {
        if (!cur) die(EXIT_USAGE, "%s before the first --run", arg);
        const char *name, *file;
        split_pair(val, &name, &file, arg);
        if (!strcmp(arg, "-i")) {
          cur->in_names[cur->n_in] = name;
          cur->in_files[cur->n_in++] = file;
        } else {
          cur->out_names[cur->n_out] = name;
          cur->out_files[cur->n_out++] = file;
        }
      }
    } else if (!strcmp(arg, "--run")) {
      if (!export_dir) die(EXIT_USAGE, "--run before EXPORT_DIR");
      cur = &runs[n_runs++];
      /* Worst case a run holds every remaining argument as an input or output. */
      cur->in_names = malloc((size_t)argc * sizeof(char *));
      cur->in_files = malloc((size_t)argc * sizeof(char *));
      cur->out_names = malloc((size_t)argc * sizeof(char *));
      cur->out_files = malloc((size_t)argc * sizeof(char *));
      if (!cur->in_names || !cur->in_files || !cur->out_names || !cur->out_files) die(EXIT_USAGE, "out of memory");
    } else if (arg[0] == '-') {
      die(EXIT_USAGE, "unknown option '%s'", arg);
    } else if (!export_dir) {
      export_dir = arg;
    } else {
      die(EXIT_USAGE, "unexpected argument '%s' (each run starts with --run)", arg);
    }
  }
  if (!export_dir || n_runs == 0) usage();
  for (int r = 0; r < n_runs; r++)
    if (runs[r].n_out == 0) die(EXIT_USAGE, "run %d: no -o output to fetch", r);
  if (n_tags == 0) tags[n_tags++] = "serve";

  /* As TF Serving's SavedModelBundle: LoadSavedModel(session_options, run_options, dir, {"serve"}). */
  TF_Status *status = TF_NewStatus();
  TF_SessionOptions *options = TF_NewSessionOptions();
  TF_Graph *graph = TF_NewGraph();
  TF_Session *session = TF_LoadSessionFromSavedModel(options, NULL, export_dir, tags, n_tags, graph, NULL, status);
  if (TF_GetCode(status) != TF_OK)
    die(EXIT_LOAD, "TF_LoadSessionFromSavedModel(%s) failed (%s): %s", export_dir, code_name(TF_GetCode(status)),
        TF_Message(status));

  for (int r = 0; r < n_runs; r++) {
    Run *run = &runs[r];
    TF_Output *feeds = calloc((size_t)run->n_in + 1, sizeof(TF_Output));
    TF_Tensor **feed_values = calloc((size_t)run->n_in + 1, sizeof(TF_Tensor *));
    TF_Output *fetches = calloc((size_t)run->n_out, sizeof(TF_Output));
    TF_Tensor **fetch_values = calloc((size_t)run->n_out, sizeof(TF_Tensor *));
    if (!feeds || !feed_values || !fetches || !fetch_values) die(EXIT_RUN, "out of memory");
    for (int i = 0; i < run->n_in; i++) {
      feeds[i] = graph_tensor(graph, run->in_names[i], "input");
      feed_values[i] = read_tensor(run->in_files[i]);
      TF_DataType want = TF_OperationOutputType(feeds[i]), got = TF_TensorType(feed_values[i]);
      if (want != got)
        die(EXIT_GRAPH, "run %d: input tensor %s has dtype enum %d, %s holds dtype enum %d", r,
            run->in_names[i], (int)want, run->in_files[i], (int)got);
    }
    for (int o = 0; o < run->n_out; o++) fetches[o] = graph_tensor(graph, run->out_names[o], "output");

    TF_SessionRun(session, NULL, feeds, feed_values, run->n_in, fetches, fetch_values, run->n_out, NULL, 0, NULL,
                  status);
    if (TF_GetCode(status) != TF_OK)
      die(EXIT_RUN, "run %d: TF_SessionRun failed (%s): %s", r, code_name(TF_GetCode(status)), TF_Message(status));
    for (int o = 0; o < run->n_out; o++) {
      write_tensor(run->out_files[o], run->out_names[o], fetch_values[o]);
      TF_DeleteTensor(fetch_values[o]);
    }
    for (int i = 0; i < run->n_in; i++) TF_DeleteTensor(feed_values[i]);
    free(feeds);
    free(feed_values);
    free(fetches);
    free(fetch_values);
  }

  if (maps_path) write_maps(maps_path);

  TF_CloseSession(session, status);
  TF_DeleteSession(session, status);
  TF_DeleteGraph(graph);
  TF_DeleteSessionOptions(options);
  TF_DeleteStatus(status);
  printf("run_signature: %d run(s) OK (TensorFlow C API %s)\n", n_runs, TF_Version());
  return 0;
}
