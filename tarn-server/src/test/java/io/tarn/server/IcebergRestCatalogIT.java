package io.tarn.server;

import org.apache.iceberg.rest.RESTCompatibilityKitCatalogTests;
import org.junit.jupiter.api.extension.ExtendWith;

/** Iceberg's REST Compatibility Kit (tables and namespaces) against Tarn's Iceberg REST catalog. */
@ExtendWith(IcebergRestServer.class)
class IcebergRestCatalogIT extends RESTCompatibilityKitCatalogTests {}
