-- vendor: dbvmssql
-- stmt: select_into_temp | expect: lineage
SELECT c.CustomerID, c.CompanyName, SUM(o.Freight) AS TotalFreight
INTO #cust_freight
FROM dbo.Customers c JOIN dbo.Orders o ON o.CustomerID = c.CustomerID
GROUP BY c.CustomerID, c.CompanyName;
-- stmt: insert_cross_apply | expect: lineage
INSERT INTO dbo.LastOrder (CustomerID, OrderID, OrderDate)
SELECT c.CustomerID, x.OrderID, x.OrderDate
FROM dbo.Customers c
CROSS APPLY (SELECT TOP 1 o.OrderID, o.OrderDate FROM dbo.Orders o WHERE o.CustomerID = c.CustomerID ORDER BY o.OrderDate DESC) x;
-- stmt: update_from_join | expect: lineage
UPDATE t SET t.ListPrice = s.NewPrice, t.ModifiedDate = GETDATE()
FROM Production.Product t INNER JOIN staging.PriceUpdate s ON s.ProductID = t.ProductID;
-- stmt: delete_from_join | expect: lineage
DELETE t FROM Sales.Cart t JOIN Sales.Customer c ON c.CustomerID = t.CustomerID WHERE c.IsTest = 1;
-- stmt: delete_without_from | expect: lineage
DELETE Sales.Cart WHERE CartID IN (SELECT CartID FROM Sales.AbandonedCarts);
-- stmt: merge_by_source | expect: lineage
MERGE dbo.DimProduct AS tgt
USING (SELECT ProductID, Name, Color FROM staging.Product) AS src
ON tgt.ProductID = src.ProductID
WHEN MATCHED AND tgt.Color <> src.Color THEN UPDATE SET tgt.Color = src.Color, tgt.Name = src.Name
WHEN NOT MATCHED BY TARGET THEN INSERT (ProductID, Name, Color) VALUES (src.ProductID, src.Name, src.Color)
WHEN NOT MATCHED BY SOURCE THEN DELETE;
-- stmt: view_top | expect: lineage
CREATE VIEW dbo.vTopProducts AS
SELECT TOP 100 p.ProductID, p.Name, SUM(d.LineTotal) AS Revenue
FROM Production.Product p JOIN Sales.SalesOrderDetail d ON d.ProductID = p.ProductID
GROUP BY p.ProductID, p.Name ORDER BY Revenue DESC;
-- stmt: procedure_try_catch | expect: lineage
CREATE PROCEDURE dbo.usp_LoadSales @d DATE AS
BEGIN
  SET NOCOUNT ON;
  BEGIN TRY
    BEGIN TRANSACTION;
    INSERT INTO dbo.FactSales (SaleID, Amount, SaleDate) SELECT SaleID, Amount, SaleDate FROM staging.Sales WHERE SaleDate = @d;
    COMMIT TRANSACTION;
  END TRY
  BEGIN CATCH
    ROLLBACK TRANSACTION;
    INSERT INTO dbo.EtlErrors (Msg, At) SELECT ERROR_MESSAGE(), GETDATE();
    THROW;
  END CATCH
END;
-- stmt: procedure_temp_tables | expect: lineage
CREATE PROCEDURE dbo.usp_Refresh AS
SET NOCOUNT ON;
SELECT CustomerID, MAX(OrderDate) AS LastOrder INTO #last FROM dbo.Orders GROUP BY CustomerID;
UPDATE c SET c.LastOrderDate = l.LastOrder FROM dbo.Customers c JOIN #last l ON l.CustomerID = c.CustomerID;
-- stmt: cte_insert | expect: lineage
WITH ranked AS (
  SELECT EmployeeID, Salary, ROW_NUMBER() OVER (PARTITION BY DeptID ORDER BY Salary DESC) AS rn FROM HR.Employee
)
INSERT INTO HR.TopEarners (EmployeeID, Salary) SELECT EmployeeID, Salary FROM ranked WHERE rn <= 3;
-- stmt: insert_output | expect: lineage
INSERT INTO dbo.Archive (ID, Payload) OUTPUT inserted.ID INTO dbo.ArchiveLog (ID)
SELECT ID, Payload FROM dbo.Queue WHERE Done = 1;
-- stmt: go_batches | expect: lineage
CREATE TABLE dbo.Stage (ID INT, Amount MONEY)
GO
INSERT INTO dbo.Target (ID, Amount) SELECT ID, Amount FROM dbo.Stage
GO
-- stmt: update_top | expect: lineage
UPDATE TOP (100) dbo.Jobs SET Status = 'R', Worker = w.Name FROM dbo.Workers w WHERE w.Free = 1;
-- stmt: select_into_pivot | expect: lineage
SELECT ProductID, [2023], [2024] INTO dbo.SalesByYear
FROM (SELECT ProductID, YEAR(OrderDate) AS Yr, LineTotal FROM Sales.Detail) s
PIVOT (SUM(LineTotal) FOR Yr IN ([2023], [2024])) p;
-- stmt: string_agg | expect: lineage
INSERT INTO dbo.OrderTags (OrderID, Tags)
SELECT OrderID, STRING_AGG(Tag, ',') WITHIN GROUP (ORDER BY Tag) FROM dbo.OrderTag GROUP BY OrderID;
-- stmt: trigger_inserted | expect: lineage
CREATE TRIGGER dbo.trg_Orders_Audit ON dbo.Orders AFTER INSERT AS
BEGIN
  SET NOCOUNT ON;
  INSERT INTO dbo.OrdersAudit (OrderID, CustomerID, AuditAt) SELECT i.OrderID, i.CustomerID, SYSDATETIME() FROM inserted i;
END;
-- stmt: inline_table_function | expect: lineage
CREATE FUNCTION dbo.fnOrders (@cust INT) RETURNS TABLE AS RETURN
(SELECT OrderID, OrderDate, Total FROM dbo.Orders WHERE CustomerID = @cust);
-- stmt: if_exists_blocks | expect: lineage
IF EXISTS (SELECT 1 FROM dbo.Stage)
BEGIN
  INSERT INTO dbo.Target (ID, Amount) SELECT ID, Amount FROM dbo.Stage;
END
ELSE
BEGIN
  INSERT INTO dbo.Log (Msg) SELECT 'empty' FROM dbo.Config WHERE Verbose = 1;
END;
-- stmt: while_loop | expect: lineage
WHILE EXISTS (SELECT 1 FROM dbo.Queue WHERE Done = 0)
BEGIN
  INSERT INTO dbo.Processed (ID) SELECT TOP 100 ID FROM dbo.Queue WHERE Done = 0;
  UPDATE dbo.Queue SET Done = 1 WHERE ID IN (SELECT ID FROM dbo.Processed);
END;
-- stmt: declare_from_query | expect: lineage
DECLARE @maxDate DATE = (SELECT MAX(OrderDate) FROM dbo.Orders);
-- stmt: select_variable_assign | expect: lineage
SELECT @total = SUM(Amount) FROM dbo.Payments WHERE PaidAt >= '2024-01-01';
-- stmt: dynamic_sql_literal | expect: lineage
EXEC sp_executesql N'INSERT INTO dbo.Target (ID) SELECT ID FROM dbo.Source WHERE Kind = ''A''';
-- stmt: dynamic_sql_concatenated | expect: error
EXEC ('INSERT INTO dbo.' + @table + ' (ID) SELECT ID FROM dbo.Source');
