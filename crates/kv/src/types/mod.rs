//! Values with compact encodings.
